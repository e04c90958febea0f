import Glibc

/// The database file's permissions. The file holds every peer's address, and any local user who
/// can open it can also hold the workers' turn (`flock`), so it is created owner-only (or with
/// the mode the operator chose, e.g. 660 for a web server's group), never world-readable. SQLite
/// gives the `-wal` and `-shm` files it creates the database file's mode.
enum DatabaseFile {
    /// Creates an empty database file with `mode` if there is none yet (SQLite takes an empty file
    /// as a new database). Must run before this process's SQLite opens the file: closing any
    /// descriptor of a file drops the process's POSIX locks on it, SQLite's included.
    ///
    /// - Parameter ownedLikeDirectory: when root creates the file, give it to the directory's
    ///   owner and group (the tracker's user), so that the responders can open what an operator's
    ///   command created. SQLite gives its `-wal` and `-shm` files the database file's owner.
    static func createIfMissing(_ path: String, mode: mode_t, ownedLikeDirectory: Bool = false) {
        guard path != ":memory:" else { return }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        if fd >= 0 {
            // The umask may have taken bits away, never added any; set exactly what was asked.
            fchmod(fd, mode)
            var directory = stat()
            let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            if ownedLikeDirectory, geteuid() == 0, stat(parent.isEmpty ? "/" : parent, &directory) == 0 {
                fchown(fd, directory.st_uid, directory.st_gid)
            }
            close(fd)
        }
    }

    /// Why a database file must not be used: one that another user owns and every local user may
    /// write, as anybody could leave in a shared directory like /dev/shm before Shoal first runs,
    /// to read the peers or hold the workers' turn. Nil when it is fine (or missing).
    static func foreignProblem(_ path: String) -> String? {
        var info = stat()
        guard path != ":memory:", stat(path, &info) == 0, info.st_uid != geteuid(), info.st_mode & 0o002 != 0 else {
            return nil
        }
        return "the file belongs to uid \(info.st_uid) and every local user may write it; remove it (or chmod o-w)"
    }

    /// Takes away permissions beyond `mode` from the database and its `-wal` and `-shm` files, if
    /// this user owns them (a file made by an earlier version, or by hand). Returns a line to log
    /// when it changed anything.
    static func tightenPermissions(_ path: String, mode: mode_t) -> String? {
        guard path != ":memory:" else { return nil }
        var changed: [String] = []
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0, info.st_uid == geteuid() else { continue }
            let current = info.st_mode & 0o777
            guard current & ~mode != 0, chmod(file, current & mode) == 0 else { continue }
            changed.append("\(file) \(String(current, radix: 8)) -> \(String(current & mode, radix: 8))")
        }
        return changed.isEmpty ? nil : "took permissions beyond database-mode away: " + changed.joined(separator: ", ")
    }
}
