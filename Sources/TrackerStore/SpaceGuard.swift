import Glibc

/// Keeps a full disk from wedging the database, and says when it is full.
///
/// On a full file system SQLite cannot even delete: a delete appends to the WAL, and the
/// checkpoint that would make room copies pages into a database file that must grow. Found on an
/// 8 MiB tmpfs, it never recovered, not after every peer expired, nor after a restart. So:
/// - new peers and swarms are refused while the database's pages in use pass `maxDatabaseBytes`
///   or the file system has less than the headroom free (twice that while the reserve is spent);
/// - a reserve file (`PATH-reserve`, up to 8 MiB, a sixteenth of the file system at most) holds
///   space back; when SQLite reports the disk full anyway (something else filled it), the
///   reserve is given up, so that expiry and checkpoints can run and the tracker recovers by
///   itself, and it is made again once there is room;
/// - each cause is logged once a minute with the path and the bytes free.
public final class SpaceGuard {
    let path: String
    var reservePath: String { path + "-reserve" }
    let limits: StoreLimits
    /// The reserve's size, which is also the free space kept as headroom.
    private(set) var reserveBytes: Int64 = 0
    private let log: (String) -> Void
    private var lastLogged: [String: Int] = [:]

    init(path: String, limits: StoreLimits, log: @escaping (String) -> Void) {
        self.path = path
        self.limits = limits
        self.log = log
        guard path != ":memory:", let space = Self.fileSystem(of: path) else { return }
        reserveBytes = min(8 << 20, space.total / 16)
    }

    /// Whether the database may take more space: a new peer or swarm. `usedBytes` is the size of
    /// the pages in use, `freeInsideBytes` that of the free pages inside the file, which deleted
    /// peers leave and new ones reuse without the file growing.
    func allowsGrowth(usedBytes: Int64, freeInsideBytes: Int64) -> Bool {
        if usedBytes >= limits.maxDatabaseBytes {
            throttledLog("full", """
                database \(path) holds \(usedBytes) bytes, max-database-size is \(limits.maxDatabaseBytes): \
                refusing new peers and swarms until expired peers make room
                """)
            return false
        }
        guard reserveBytes > 0, let space = Self.fileSystem(of: path) else { return true }
        let headroom = hasReserve ? reserveBytes : 2 * reserveBytes
        if space.available + freeInsideBytes < headroom {
            throttledLog("disk", """
                database or disk is full: \(path), \(space.available) bytes free; refusing new peers and swarms \
                until there is room (free space or let peers expire)
                """)
            return false
        }
        return true
    }

    /// SQLite reported the disk full: give up the reserve, so that what is committed can be
    /// checkpointed and expired peers deleted.
    func diskFull() {
        let free = Self.fileSystem(of: path)?.available ?? 0
        let released = hasReserve && unlink(reservePath) == 0
        throttledLog("sqlite-full", """
            database or disk is full: \(path), \(free) bytes free\
            \(released ? "; released the \(reserveBytes)-byte reserve so that expiry and checkpoints can run" : "")
            """)
    }

    /// Makes the reserve if it is missing and there is room for it and the headroom besides.
    func restoreReserveIfRoom() {
        guard reserveBytes > 0, !hasReserve, let space = Self.fileSystem(of: path),
            space.available >= 2 * reserveBytes
        else { return }
        let fd = open(reservePath, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }  // another process is making it, or the directory is read-only
        let made = posix_fallocate(fd, 0, off_t(reserveBytes)) == 0
        close(fd)
        if !made { unlink(reservePath) }
    }

    var hasReserve: Bool { access(reservePath, F_OK) == 0 }

    private func throttledLog(_ kind: String, _ message: String) {
        let now = Int(time(nil))
        if let last = lastLogged[kind], now - last < 60 { return }
        lastLogged[kind] = now
        log(message)
    }

    /// "database or disk is full: PATH, N bytes free" when the file system holding `path` has
    /// (nearly) no room left, the likely cause of an I/O error opening or writing the database.
    public static func fullDiskNote(_ path: String) -> String? {
        guard path != ":memory:", let space = fileSystem(of: path), space.available < 1 << 20 else { return nil }
        return "database or disk is full: \(path), \(space.available) bytes free"
    }

    /// Total and available bytes of the file system holding `path`'s directory.
    static func fileSystem(of path: String) -> (total: Int64, available: Int64)? {
        let directory = path.lastIndex(of: "/").map { path[..<$0] }.map { $0.isEmpty ? "/" : String($0) } ?? "."
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        let unit = Int64(info.f_frsize)
        return (Int64(info.f_blocks) * unit, Int64(info.f_bavail) * unit)
    }
}
