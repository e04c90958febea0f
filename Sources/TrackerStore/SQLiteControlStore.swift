import CSQLite
import Glibc
import TrackerCore

/// The control database (`control-database`): on disk, what the operator decides must survive a
/// reboot. Commands write it; every responder reads it on the requests that need it.
///
/// Reads are cheap enough for every announce: the torrent list is one lookup of a primary key,
/// and the client rules are cached in the process and reloaded only when `PRAGMA data_version`
/// says another connection changed the file. Between `beginBatch()` and `finishBatch()` the reads
/// share one read transaction; a change committed meanwhile is seen by the next batch.
public final class SQLiteControlStore: AccessList {
    public let path: String
    public let database: Database
    private let listed: Statement
    private let dataVersion: Statement
    private let rules: Statement
    private let beginRead: Statement
    private let endRead: Statement
    /// The `data_version` the caches below hold answers for. It changes when another connection
    /// (an operator's command) commits; this connection's own writes of the lists (the control
    /// endpoint) call `forgetCaches()` instead, since they do not change it.
    private var cachedVersion: Int64?
    /// Lookups of the torrent list: popular torrents are announced again and again.
    private var listedCache: [InfoHash: Bool] = [:]
    private var cachedRules: ClientRules?
    /// Private tracking: what the site says of each user, and which torrents it deleted.
    var userCache: [UInt32: UserStanding] = [:]
    var deletedCache: [InfoHash: String?] = [:]
    private var inBatch = false
    private var readOpen = false
    /// Within a batch, the caches have been revalidated already.
    private var validatedInBatch = false
    /// Lookups kept at most; past it the cache starts over (about 100 bytes each).
    static let listedCacheLimit = 50_000
    /// Statements of the commands' write paths, prepared once per connection.
    var prepared: [String: Statement] = [:]

    /// Opens (creating if needed) the control database at `path`.
    ///
    /// - Parameters:
    ///   - durable: commit with a sync to disk (commands an operator runs); responders use
    ///     `synchronous = NORMAL`, which in WAL mode can lose the last few commits to a power cut
    ///     but never corrupts the file.
    ///   - fileMode: permissions of a file this creates. Created by root (an operator's `sudo
    ///     shoal torrents add`), the file is given to the owner of its directory, the tracker's
    ///     user, so that its responders can still open it.
    public init(path: String, busyTimeoutMilliseconds: Int = 2000, fileMode: mode_t = 0o600, durable: Bool = false)
        throws(SQLiteError)
    {
        if let problem = Self.directoryProblem(path) ?? DatabaseFile.foreignProblem(path) {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: problem)
        }
        DatabaseFile.createIfMissing(path, mode: fileMode, ownedLikeDirectory: true)
        self.path = path
        database = try Database(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try database.setUp(
            wal: true, pragmas: "PRAGMA synchronous = \(durable ? "FULL" : "NORMAL"); PRAGMA temp_store = MEMORY",
            schema: Schema.control)
        listed = try database.prepare("SELECT 1 FROM torrent_hashes WHERE info_hash = ?1")
        dataVersion = try database.prepare("PRAGMA data_version")
        rules = try database.prepare("SELECT prefix, rule FROM client_rules")
        beginRead = try database.prepare("BEGIN")
        endRead = try database.prepare("COMMIT")
    }

    /// Why the control database cannot live at `path`, in words that say what to do; nil if it can.
    public static func directoryProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "give an absolute path" }
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let shown = directory.isEmpty ? "/" : directory
        var info = stat()
        guard stat(shown, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            return "its directory \(shown) does not exist: create it for the tracker's user "
                + "(install -d -o USER -m 700 \(shown)), or set control-database"
        }
        guard access(shown, W_OK | X_OK) == 0 || access(path, W_OK) == 0 else {
            return "its directory \(shown) is not writable by this user: chown it to the tracker's user, "
                + "or set control-database"
        }
        return nil
    }

    // MARK: - What responders read

    public func isListed(_ infoHash: InfoHash) throws -> Bool {
        try revalidate()
        if let known = listedCache[infoHash] { return known }
        listed.bind(infoHash.bytes, at: 1)
        defer { listed.reset() }
        let found = try listed.step()
        if listedCache.count >= Self.listedCacheLimit { listedCache.removeAll(keepingCapacity: true) }
        listedCache[infoHash] = found
        return found
    }

    public func clientRules() throws -> ClientRules {
        try revalidate()
        if let cachedRules { return cachedRules }
        var fresh = ClientRules()
        defer { rules.reset() }
        while try rules.step() {
            let prefix = rules.blob(at: 0)
            if rules.text(at: 1) == "allow" { fresh.allow.append(prefix) } else { fresh.deny.append(prefix) }
        }
        cachedRules = fresh
        return fresh
    }

    /// Forgets what was cached if the file changed since: once per batch, or per request outside
    /// one. `PRAGMA data_version` reads one integer from shared memory.
    func revalidate() throws(SQLiteError) {
        if inBatch, validatedInBatch { return }
        try openBatchRead()
        let version: Int64
        do {
            defer { dataVersion.reset() }
            _ = try dataVersion.step()
            version = dataVersion.int64(at: 0)
        }
        if version != cachedVersion {
            forgetCaches()
            cachedVersion = version
        }
        validatedInBatch = inBatch
    }

    /// Drops every cached answer: this connection changed the lists itself.
    func forgetCaches() {
        listedCache.removeAll(keepingCapacity: true)
        cachedRules = nil
        userCache.removeAll(keepingCapacity: true)
        deletedCache.removeAll(keepingCapacity: true)
    }

    /// One user's part of `SiteStanding`, as cached.
    struct UserStanding {
        var keyFloor: UInt16
        var banned: String?
        var ratioWatch: String?
        var hasRevokedTokens: Bool
    }

    /// A statement of a command's write path, prepared on first use. Callers reset it (`run()`
    /// does) before it is used again.
    func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let known = prepared[sql] { return known }
        let fresh = try database.prepare(sql)
        prepared[sql] = fresh
        return fresh
    }

    /// Makes the reads until `finishBatch()` share one read transaction.
    public func beginBatch() {
        inBatch = true
        validatedInBatch = false
    }

    public func finishBatch() {
        inBatch = false
        endBatchRead()
    }

    /// Ends the batch's read transaction early, so that this connection can write (the control
    /// endpoint); a later read in the batch opens another.
    func endBatchRead() {
        if readOpen {
            readOpen = false
            try? endRead.run()
        }
    }

    private func openBatchRead() throws(SQLiteError) {
        guard inBatch, !readOpen else { return }
        try beginRead.run()
        readOpen = true
    }
}
