import CSQLite
import Glibc
import TrackerCore

/// The `PeerStore` over one SQLite database shared by any number of processes.
///
/// An announce is a small step of the expiry sweep, the peer's insert/update/delete (triggers keep
/// the per-swarm counts), the counts, and one or two range reads for the peers to hand out, all in
/// one `BEGIN IMMEDIATE … COMMIT` transaction. Between `beginBatch()` and `finishBatch()` the
/// announces share one transaction instead (see `beginBatch`). A process killed at any instant
/// leaves the database as the last commit left it.
///
/// The only thing kept between requests is where this process's expiry sweep stopped; losing it
/// (a killed worker) only means the next process sweeps from the start of the table again.
public final class SQLitePeerStore: PeerStore {
    /// Peers examined by the expiry sweep per announce. Each peer announces about once per
    /// interval and expires at most once, so examining a few per announce covers the whole table
    /// about every interval/8 seconds whatever its size. (Sweeping 64 on every 8th announce
    /// instead measured the same.)
    static let sweepStep: Int64 = 8

    typealias PeerKey = (hash: [UInt8], seeding: Int64, shuffle: Int64, endpoint: [UInt8])
    /// Where this process's sweep continues; the empty key sorts before every row.
    var sweepFrom: PeerKey = ([], 0, 0, [])
    /// The database file's path.
    public var spaceGuardPath: String { spaceGuard.path }
    /// Expired peers this process deleted (counted for /stats; a rolled-back sweep may count twice).
    public var expiredRemoved: Int64 = 0

    public let database: Database
    /// A line for the log when opening changed the files' permissions.
    public let permissionsNote: String?
    let begin: Statement
    let commit: Statement
    let rollback: Statement
    let sweepScan: Statement
    let deleteByKey: Statement
    private let refresh: Statement
    private let upsert: Statement
    private let remove: Statement
    private let counts: Statement
    private let partialSeeds: Statement
    /// The two halves of a wrapping walk: `shuffle >= start`, then `shuffle < start`. Built once,
    /// so the hot path does not allocate the list on every reply.
    private let windowHalves: [Statement]
    let beginRead: Statement
    private let known: Statement
    private let lastAnnounce: Statement
    private let pageCounts: Statement
    private let pageSize: Int64
    private let addressPeers: Statement
    private let evictAddressPeers: Statement
    let spaceGuard: SpaceGuard
    /// Outside a batch: whether the database may grow, found once per announce.
    private var growthAllowedNow: Bool?
    var ledgerStore: SQLiteLedger?
    /// Private announces this process may still append before it looks at the ledger's size again.
    var ledgerRoomCountdown = 0
    /// Where this process's sweep of private tracking's sessions continues (nil: the start).
    var sessionSweepFrom: SQLiteLedger.SessionKey?

    /// The WAL is cut back to this after a peak (`journal_size_limit`); about what 1,000 pages
    /// between automatic checkpoints take.
    static let walLimitBytes = 4 << 20

    /// Opens the database at `path` (`":memory:"` for a private in-memory one), sets it up for
    /// many concurrent processes (WAL, `synchronous=OFF`) and applies `schema.sql`.
    ///
    /// Throws when the file cannot be opened or written, with SQLite's reason.
    /// - Parameters:
    ///   - fileMode: the permissions of a database file this creates; an existing one owned by
    ///     this user loses any beyond them (`permissionsNote` says so).
    ///   - limits: how big the database and each address's share of a swarm may grow.
    ///   - log: receives a line (at most once a minute each) when the database or disk is full.
    public init(
        path: String, busyTimeoutMilliseconds: Int = 2000, fileMode: mode_t = 0o600, limits: StoreLimits = StoreLimits(),
        log: @escaping (String) -> Void = { _ in }
    ) throws(SQLiteError) {
        if let problem = DatabaseFile.foreignProblem(path) { throw SQLiteError(code: SQLITE_CANTOPEN, message: problem) }
        permissionsNote = DatabaseFile.tightenPermissions(path, mode: fileMode)
        spaceGuard = SpaceGuard(path: path, limits: limits, log: log)
        spaceGuard.restoreReserveIfRoom()
        DatabaseFile.createIfMissing(path, mode: fileMode)
        database = try Database(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        // synchronous=OFF: the database lives on tmpfs or in memory, and a crash of the machine
        // loses the peers anyway; a crash of a process loses nothing either way.
        // mmap_size=0: with several processes writing, memory-mapping the growing file cost a
        // quarter of the CPU per announce (remaps and page faults; measured with bench/run.py).
        // journal_size_limit: after a peak (a long read holding checkpoints off, a flood) the
        // WAL is cut back to this size when it next starts over, instead of staying at its peak.
        try database.setUp(
            wal: path != ":memory:",
            pragmas: """
                PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 0;
                PRAGMA journal_size_limit = \(Self.walLimitBytes)
                """,
            schema: Schema.peers)
        try Self.addAnnouncedColumnIfMissing(database)

        begin = try database.prepare("BEGIN IMMEDIATE")
        beginRead = try database.prepare("BEGIN")
        commit = try database.prepare("COMMIT")
        rollback = try database.prepare("ROLLBACK")
        sweepScan = try database.prepare("""
            SELECT info_hash, seeding, shuffle, endpoint, expires FROM peers
            WHERE (info_hash, seeding, shuffle, endpoint) > (?1, ?2, ?3, ?4)
            ORDER BY info_hash, seeding, shuffle, endpoint LIMIT ?5
            """)
        deleteByKey = try database.prepare(
            "DELETE FROM peers WHERE info_hash = ?1 AND seeding = ?2 AND shuffle = ?3 AND endpoint = ?4")
        // Leaves the key (and so both B-trees' order) alone: found through the unique index, the
        // row is rewritten in place. The triggers fire only if `complete`/`completed` change.
        refresh = try database.prepare("""
            UPDATE peers SET peer_id = ?3, complete = ?4, completed = max(completed, ?5), expires = ?6, announced = ?8
            WHERE info_hash = ?1 AND endpoint = ?2 AND seeding = ?7
            """)
        upsert = try database.prepare("""
            INSERT INTO peers (info_hash, seeding, shuffle, endpoint, peer_id, complete, completed, expires, announced)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT (info_hash, endpoint) DO UPDATE SET
                seeding = excluded.seeding, shuffle = excluded.shuffle, peer_id = excluded.peer_id,
                complete = excluded.complete, completed = max(completed, excluded.completed),
                expires = excluded.expires, announced = excluded.announced
            """)
        remove = try database.prepare("DELETE FROM peers WHERE info_hash = ?1 AND endpoint = ?2")
        known = try database.prepare("SELECT 1 FROM peers WHERE info_hash = ?1 AND endpoint = ?2")
        lastAnnounce = try database.prepare("SELECT announced FROM peers WHERE info_hash = ?1 AND endpoint = ?2")
        pageCounts = try database.prepare(
            "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count)")
        pageSize = try database.scalar("PRAGMA page_size") ?? 4096
        // An address's peers in a swarm are one range of the (info_hash, endpoint) index: the
        // endpoint is the address followed by the port. length() keeps IPv6 endpoints that
        // happen to start with the same bytes out of an IPv4 range.
        let sameAddress = "info_hash = ?1 AND endpoint BETWEEN ?2 AND ?3 AND length(endpoint) = ?4 AND endpoint <> ?5"
        addressPeers = try database.prepare("SELECT count(*) FROM (SELECT 1 FROM peers WHERE \(sameAddress) LIMIT ?6)")
        evictAddressPeers = try database.prepare("""
            DELETE FROM peers WHERE info_hash = ?1 AND endpoint IN
                (SELECT endpoint FROM peers WHERE \(sameAddress) ORDER BY expires LIMIT ?6)
            """)
        counts = try database.prepare("SELECT seeders, leechers, downloaded FROM torrents WHERE info_hash = ?1")
        partialSeeds = try database.prepare("SELECT count FROM partial_seeds WHERE info_hash = ?1")
        // The walk from a random start wraps around: first `shuffle >= start`, then `shuffle < start`.
        func window(_ comparison: String) -> String {
            """
            SELECT endpoint, peer_id FROM peers
            WHERE info_hash = ?1 AND seeding = ?2 AND shuffle \(comparison) ?3 AND expires >= ?4 AND endpoint <> ?5
            ORDER BY shuffle LIMIT ?6
            """
        }
        windowHalves = [try database.prepare(window(">=")), try database.prepare(window("<"))]
    }

    /// Where a batch stands; `nil` outside one.
    var batch: Batch?

    struct Batch {
        /// The shared transaction is open; it is begun by the first announce.
        var isOpen = false
        /// Something applied in this batch was rolled back, so its replies must not be sent.
        var lost = false
        /// Beginning the transaction failed: the rest of the batch fails the same way at once
        /// rather than each waiting out the busy timeout again.
        var beginFailure: SQLiteError?
        /// Whether the database may grow (a new peer or swarm), found once per batch.
        var growthAllowed: Bool?
        /// Whether the ledger is below its cap, found once per batch.
        var ledgerHasRoom: Bool?
    }

    /// Makes the announces until `finishBatch()` share one write transaction: its cost (locks,
    /// the WAL frames of pages several announces touch, re-reading pages another process changed)
    /// is paid once per batch instead of once per announce. The caller must not send their replies
    /// before `finishBatch()` says everything was stored. Scrapes in the batch read inside it.
    public func beginBatch() {
        batch = Batch()
    }

    /// Commits the batch's transaction; false if anything the batch's replies say was not stored
    /// (the commit failed, or SQLite rolled the transaction back after an error), in which case
    /// none of those replies may be sent.
    public func finishBatch() -> Bool {
        guard let finished = batch else { return true }
        batch = nil
        guard finished.isOpen else { return !finished.lost }
        do throws(SQLiteError) {
            try commit.run()
            return !finished.lost
        } catch {
            try? rollback.run()
            noteIfDiskFull(error)
            return false
        }
    }

    public func announce(_ change: PeerAnnounce, selection: PeerSelection, now: Int64) throws -> AnnounceOutcome {
        guard batch != nil else {
            growthAllowedNow = nil
            try begin.run()
            do {
                let outcome = try apply(change, selection: selection, now: now)
                try commit.run()
                return outcome
            } catch {
                try? rollback.run()
                noteIfDiskFull(error)
                throw error
            }
        }
        try openBatchTransaction()
        do {
            return try apply(change, selection: selection, now: now)
        } catch {
            noteFailureInBatch()
            noteIfDiskFull(error)
            throw error
        }
    }

    private func noteIfDiskFull(_ error: any Error) {
        if let error = error as? SQLiteError, error.code == SQLITE_FULL { spaceGuard.diskFull() }
    }

    /// Each statement is atomic and the triggers keep the counts, so a failed announce leaves its
    /// swarm consistent and the batch can go on; but some errors (a full disk) make SQLite roll
    /// back the whole transaction, and with it what was already answered in this batch.
    private func noteFailureInBatch() {
        if sqlite3_get_autocommit(database.handle) != 0 {
            batch?.isOpen = false
            batch?.lost = true
        }
    }

    /// Runs `body` inside a write transaction: the batch's (opened if needed), or one of its own.
    func inWriteTransaction<T>(_ body: () throws -> T) throws -> T {
        if batch != nil {
            try openBatchTransaction()
            return try body()
        }
        return try database.writeTransaction(body)
    }

    private func openBatchTransaction() throws(SQLiteError) {
        guard let current = batch, !current.isOpen else { return }
        if let failure = current.beginFailure { throw failure }
        do throws(SQLiteError) {
            try begin.run()
            batch?.isOpen = true
        } catch {
            batch?.beginFailure = error
            throw error
        }
    }

    /// The announce's changes and reads, inside a transaction the caller opened.
    private func apply(_ change: PeerAnnounce, selection: PeerSelection, now: Int64) throws -> AnnounceOutcome {
        try sweep(now: now)
        let early = try isEarly(change)
        if early, change.refusesEarly { throw TrackerFailure.tooEarly }
        if change.removes {
            remove.bind(change.infoHash.bytes, at: 1)
            remove.bind(change.endpoint.bytes, at: 2)
            try remove.run()
        } else if try change.redrawsShuffle || !refreshInPlace(change, now: now) {
            if try !isKnown(change) {
                guard try growthAllowed() else { throw TrackerFailure.trackerFull }
                try capPeers(ofAddressOf: change)
            }
            upsert.bind(change.infoHash.bytes, at: 1)
            upsert.bind(change.isSeeding ? 1 : 0, at: 2)
            upsert.bind(Self.storedShuffle(change.shuffle), at: 3)
            upsert.bind(change.endpoint.bytes, at: 4)
            upsert.bind(change.peerID.bytes, at: 5)
            upsert.bind(change.isComplete ? 1 : 0, at: 6)
            upsert.bind(change.completes ? 1 : 0, at: 7)
            upsert.bind(change.expires, at: 8)
            upsert.bind(now, at: 9)
            try upsert.run()
        }
        let swarm = try readCounts(change.infoHash)
        if let session = change.session {
            let announcerLeeches = !change.removes && !change.isComplete
            try ledger().record(
                session, infoHash: change.infoHash, peerID: change.peerID, port: change.endpoint.port,
                otherLeechers: swarm.leechers - (announcerLeeches ? 1 : 0), now: now, hasRoom: ledgerHasRoom())
        }
        var peers: [PeerRecord] = []
        if selection.count > 0 {
            peers = try select(selection, for: change, counts: swarm, now: now)
        }
        return AnnounceOutcome(counts: swarm, peers: peers, wasEarly: early)
    }

    /// Whether this is a known peer announcing again before the caller's cutoff (only looked up
    /// when the caller asks: early-announce is not `allow`).
    private func isEarly(_ change: PeerAnnounce) throws(SQLiteError) -> Bool {
        guard let cutoff = change.earlyIfAnnouncedAfter else { return false }
        lastAnnounce.bind(change.infoHash.bytes, at: 1)
        lastAnnounce.bind(change.endpoint.bytes, at: 2)
        defer { lastAnnounce.reset() }
        return try lastAnnounce.step() && lastAnnounce.int64(at: 0) > cutoff
    }

    /// A peers database made before `announced` existed gets the column (its peers count as
    /// having announced long ago). Racing processes may both try; the loser finds it there.
    private static func addAnnouncedColumnIfMissing(_ database: Database) throws(SQLiteError) {
        let present = "SELECT count(*) FROM pragma_table_info('peers') WHERE name = 'announced'"
        guard try database.scalar(present) == 0 else { return }
        do {
            try database.execute("ALTER TABLE peers ADD COLUMN announced INTEGER NOT NULL DEFAULT 0")
        } catch {
            guard try database.scalar(present) == 1 else { throw error }
        }
    }

    /// Whether this peer is in its swarm already (then updating it takes no new space).
    private func isKnown(_ change: PeerAnnounce) throws(SQLiteError) -> Bool {
        known.bind(change.infoHash.bytes, at: 1)
        known.bind(change.endpoint.bytes, at: 2)
        defer { known.reset() }
        return try known.step()
    }

    /// Whether a new peer or swarm may be added now: found once per batch (or announce), from the
    /// pages in use and the file system's free space (`SpaceGuard`).
    private func growthAllowed() throws(SQLiteError) -> Bool {
        if let known = batch?.growthAllowed ?? growthAllowedNow { return known }
        let pages = try pageUsage()
        let allowed = spaceGuard.allowsGrowth(usedBytes: pages.usedBytes, freeInsideBytes: pages.freeBytes)
        if batch != nil { batch?.growthAllowed = allowed } else { growthAllowedNow = allowed }
        return allowed
    }

    /// Bytes of the pages in use, and of the free pages inside the file.
    func pageUsage() throws(SQLiteError) -> (usedBytes: Int64, freeBytes: Int64) {
        defer { pageCounts.reset() }
        _ = try pageCounts.step()
        let free = pageCounts.int64(at: 1)
        return ((pageCounts.int64(at: 0) - free) * pageSize, free * pageSize)
    }

    /// Makes room for one more peer of this address in its swarm: beyond
    /// `StoreLimits.maxPeersPerAddress`, the address's entries that expire first are removed.
    private func capPeers(ofAddressOf change: PeerAnnounce) throws(SQLiteError) {
        let cap = spaceGuard.limits.maxPeersPerAddress
        let endpoint = change.endpoint.bytes
        let address = Array(endpoint.dropLast(2))
        func bind(_ statement: Statement, limit: Int) {
            statement.bind(change.infoHash.bytes, at: 1)
            statement.bind(address + [0, 0], at: 2)
            statement.bind(address + [0xff, 0xff], at: 3)
            statement.bind(Int64(endpoint.count), at: 4)
            statement.bind(endpoint, at: 5)
            statement.bind(Int64(limit), at: 6)
        }
        bind(addressPeers, limit: cap)
        let present: Int64
        do {
            defer { addressPeers.reset() }
            _ = try addressPeers.step()
            present = addressPeers.int64(at: 0)
        }
        guard present >= cap else { return }
        // Only as many as this announce needs: a cap lowered since leaves the others until then.
        bind(evictAddressPeers, limit: Int(present) - cap + 1)
        try evictAddressPeers.run()
    }

    public func scrape(_ infoHashes: [InfoHash]) throws -> [SwarmCounts] {
        if batch?.isOpen == true {
            do {
                return try infoHashes.map { hash throws(SQLiteError) in try readScrapeCounts(hash) }
            } catch {
                noteFailureInBatch()
                throw error
            }
        }
        // One read transaction, so the counts of all hashes come from the same moment.
        try beginRead.run()
        do {
            let result = try infoHashes.map { hash throws(SQLiteError) in try readScrapeCounts(hash) }
            try commit.run()
            return result
        } catch {
            try? rollback.run()
            throw error
        }
    }

    /// Updates a known peer whose seeding state is unchanged; false if there is no such row.
    private func refreshInPlace(_ change: PeerAnnounce, now: Int64) throws(SQLiteError) -> Bool {
        refresh.bind(change.infoHash.bytes, at: 1)
        refresh.bind(change.endpoint.bytes, at: 2)
        refresh.bind(change.peerID.bytes, at: 3)
        refresh.bind(change.isComplete ? 1 : 0, at: 4)
        refresh.bind(change.completes ? 1 : 0, at: 5)
        refresh.bind(change.expires, at: 6)
        refresh.bind(change.isSeeding ? 1 : 0, at: 7)
        refresh.bind(now, at: 8)
        try refresh.run()
        return sqlite3_changes(database.handle) > 0
    }

    /// The counts and, for BEP 21's `downloaders`, the partial seeds.
    private func readScrapeCounts(_ infoHash: InfoHash) throws(SQLiteError) -> SwarmCounts {
        var swarm = try readCounts(infoHash)
        guard swarm.leechers > 0 else { return swarm }
        partialSeeds.bind(infoHash.bytes, at: 1)
        defer { partialSeeds.reset() }
        if try partialSeeds.step() { swarm.partialSeeds = Int(partialSeeds.int64(at: 0)) }
        return swarm
    }

    private func readCounts(_ infoHash: InfoHash) throws(SQLiteError) -> SwarmCounts {
        counts.bind(infoHash.bytes, at: 1)
        defer { counts.reset() }
        guard try counts.step() else { return SwarmCounts() }
        return SwarmCounts(
            seeders: Int(counts.int64(at: 0)), leechers: Int(counts.int64(at: 1)), downloaded: Int(counts.int64(at: 2)))
    }

    /// A seeder gets only downloaders. A downloader gets seeders and downloaders in proportion to
    /// the swarm's counts; when one group runs short, the other fills the rest.
    private func select(
        _ selection: PeerSelection, for change: PeerAnnounce, counts: SwarmCounts, now: Int64
    ) throws(SQLiteError) -> [PeerRecord] {
        let wanted = selection.count
        if change.isSeeding {
            return try window(seeding: false, wanted, selection.start, change, now)
        }
        let others = max(1, counts.seeders + counts.leechers - 1)
        let seedersWanted = min(wanted, (wanted * counts.seeders + others / 2) / others)
        var seeders = try window(seeding: true, seedersWanted, selection.start, change, now)
        let leechers = try window(seeding: false, wanted - seeders.count, selection.start, change, now)
        if seeders.count == seedersWanted, seeders.count + leechers.count < wanted {
            // Too few downloaders: widen the seeder window from the same start (a superset).
            seeders = try window(seeding: true, wanted - leechers.count, selection.start, change, now)
        }
        return seeders + leechers
    }

    /// A shuffle value as stored: the same 32 bits read as signed. SQLite stores integers in
    /// -2^31..2^31-1 in 4 bytes but needs 6 above that, and the key holds shuffle twice (table and
    /// index), so this saves about 2 bytes per peer. Starts are mapped the same way, so the walk
    /// from a random start is unchanged.
    static func storedShuffle(_ value: UInt32) -> Int64 { Int64(Int32(bitPattern: value)) }

    /// Up to `limit` live peers of one group, in shuffle order from `start`, wrapping around.
    private func window(
        seeding: Bool, _ limit: Int, _ start: UInt32, _ change: PeerAnnounce, _ now: Int64
    ) throws(SQLiteError) -> [PeerRecord] {
        guard limit > 0 else { return [] }
        var peers: [PeerRecord] = []
        peers.reserveCapacity(limit)
        for statement in windowHalves where peers.count < limit {
            statement.bind(change.infoHash.bytes, at: 1)
            statement.bind(seeding ? 1 : 0, at: 2)
            statement.bind(Self.storedShuffle(start), at: 3)
            statement.bind(now, at: 4)
            statement.bind(change.endpoint.bytes, at: 5)
            statement.bind(Int64(limit - peers.count), at: 6)
            defer { statement.reset() }
            while try statement.step() {
                guard let endpoint = PeerEndpoint(compact: statement.blob(at: 0)),
                    let peerID = PeerID(statement.blob(at: 1))
                else { continue }  // never written by us; skip rather than fail the announce
                peers.append(PeerRecord(endpoint: endpoint, peerID: peerID))
            }
        }
        return peers
    }
}
