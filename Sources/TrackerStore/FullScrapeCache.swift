import Glibc
import TrackerCore

/// The full scrape every responder of one peers database shares: two files beside the database
/// (`PATH-fullscrape` and `PATH-fullscrape.gz`), replaced whole by `rename`, so a reader always
/// gets a complete copy, whoever is writing the next one.
///
/// Making a copy is one pass over `torrents` in a read transaction. Whoever finds the copy older
/// than `full-scrape-cache` asks for a new one and serves the old one meanwhile; the new one is
/// made in that worker's upkeep, outside its turn, so the other workers go on. A lock file makes
/// sure only one process makes it; a killed maker's lock goes with it. Only the very first full
/// scrape, with no copy yet, waits for one to be made.
public final class FullScrapeCache {
    let path: String
    let mode: mode_t
    /// A stale copy was served: make a new one in the next upkeep.
    private var refreshWanted = false

    public init(databasePath: String, mode: mode_t) {
        path = databasePath + "-fullscrape"
        self.mode = mode
    }

    /// The copy to send, made now if there is none at all.
    public func body(gzip: Bool, maxAge: Int64, now: Int64, make: () throws -> [UInt8]) throws -> [UInt8] {
        if let (bytes, made) = read(gzip: gzip) {
            if now - made >= maxAge { refreshWanted = true }
            return bytes
        }
        // No copy yet: wait for whoever is making the first (or make it).
        try withLock(blocking: true) {
            if read(gzip: false) == nil { try write(make()) }
        }
        guard let (bytes, _) = read(gzip: gzip) else {
            throw SQLiteError(code: 14, message: "the full scrape at \(path) could not be written")
        }
        return bytes
    }

    /// Makes a new copy if a stale one was served and nobody else is making one.
    public func refreshIfWanted(maxAge: Int64, now: Int64, make: () throws -> [UInt8]) throws {
        guard refreshWanted else { return }
        refreshWanted = false
        try withLock(blocking: false) {
            // Another process may have just made one.
            if let (_, made) = read(gzip: false), now - made < maxAge { return }
            try write(make())
        }
    }

    private func read(gzip: Bool) -> ([UInt8], made: Int64)? {
        let file = gzip ? path + ".gz" : path
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            guard got > 0 else { return nil }
            done += got
        }
        return (bytes, Int64(info.st_mtim.tv_sec))
    }

    private func write(_ body: [UInt8]) throws {
        try FullScrapeFiles.write(body, to: path, mode: mode)
    }

    private func withLock(blocking: Bool, _ body: () throws -> Void) throws {
        let fd = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SQLiteError(code: 14, message: "cannot open \(path).lock: \(FullScrapeFiles.errnoText())") }
        defer { close(fd) }
        guard flock(fd, blocking ? LOCK_EX : LOCK_EX | LOCK_NB) == 0 else { return }
        defer { flock(fd, LOCK_UN) }
        try body()
    }
}

extension SQLitePeerStore {
    /// The full scrape: every swarm the access list allows, in info_hash order (the primary key's),
    /// with BEP 48 counts and BEP 21 `downloaders`. One pass, in a read transaction of its own
    /// unless the batch's write transaction is open already.
    public func fullScrapeBody(admits: ([UInt8]) -> Bool) throws -> [UInt8] {
        let rows = try database.prepare("""
            SELECT t.info_hash, t.seeders, t.leechers, t.downloaded, coalesce(p.count, 0)
            FROM torrents t LEFT JOIN partial_seeds p USING (info_hash) ORDER BY t.info_hash
            """)
        let ownTransaction = database.isAutocommit
        if ownTransaction { try database.execute("BEGIN") }
        defer { if ownTransaction { try? database.execute("COMMIT") } }
        var out = BencodeWriter(reservingCapacity: 1 << 16)
        out.beginDictionary()
        out.key("files")
        out.beginDictionary()
        while try rows.step() {
            let hash = rows.blob(at: 0)
            guard hash.count == 20, admits(hash) else { continue }
            let counts = SwarmCounts(
                seeders: Int(rows.int64(at: 1)), leechers: Int(rows.int64(at: 2)), downloaded: Int(rows.int64(at: 3)),
                partialSeeds: Int(rows.int64(at: 4)))
            out.string(hash)
            ScrapeResponse.encode(counts, into: &out)
        }
        out.end()
        out.end()
        return out.bytes
    }

    /// Whether `address` may have a full scrape now; records it if so.
    public func claimFullScrape(for address: IPAddress, interval: Int64, now: Int64) throws -> Bool {
        try inWriteTransaction {
            let last = try database.prepare("SELECT last FROM full_scrape_clients WHERE address = ?1")
            last.bind(address.bytes, at: 1)
            if try last.step(), now - last.int64(at: 0) < interval { return false }
            let record = try database.prepare("""
                INSERT INTO full_scrape_clients (address, last) VALUES (?1, ?2)
                ON CONFLICT (address) DO UPDATE SET last = excluded.last
                """)
            record.bind(address.bytes, at: 1)
            record.bind(now, at: 2)
            try record.run()
            return true
        }
    }

    /// Forgets addresses whose interval has passed (the upkeep, about once a minute).
    public func forgetFullScrapeClients(before: Int64) throws {
        let forget = try database.prepare("DELETE FROM full_scrape_clients WHERE last < ?1")
        forget.bind(before, at: 1)
        try forget.run()
    }
}
