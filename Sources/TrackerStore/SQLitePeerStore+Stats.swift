import Glibc
import TrackerCore

/// /stats from the peers database: the totals and counters rows, pragmas and file sizes, never a
/// pass over the peers. The busiest swarms (opentracker's `top100`) need a pass over `torrents`;
/// it is made by whoever asks first after a minute and kept in `cache` for everyone else.
extension SQLitePeerStore {
    /// How long a computed top100 is served before it is computed again.
    static let topMaxAgeSeconds: Int64 = 60

    public func peerCount() throws -> Int {
        Int(try database.scalar("SELECT seeders + leechers FROM totals") ?? 0)
    }

    /// Adds a worker's counted increments to the shared counters, in one write transaction.
    public func addCounters(_ increments: [String: Int64]) throws {
        guard !increments.isEmpty else { return }
        try inWriteTransaction {
            let add = try database.prepare("""
                INSERT INTO counters (name, value) VALUES (?1, ?2)
                ON CONFLICT (name) DO UPDATE SET value = value + excluded.value
                """)
            for (name, amount) in increments {
                add.bind(name, at: 1)
                add.bind(amount, at: 2)
                try add.run()
            }
        }
    }

    public func statsSnapshot(control: SQLiteControlStore?, includingTop: Bool, now: Int64) throws -> StatsSnapshot {
        var s = StatsSnapshot()
        let totals = try database.prepare("SELECT torrents, seeders, leechers, ipv4, ipv6, completed FROM totals")
        if try totals.step() {
            (s.torrents, s.seeders, s.leechers) = (totals.int64(at: 0), totals.int64(at: 1), totals.int64(at: 2))
            (s.peersIPv4, s.peersIPv6, s.completed) = (totals.int64(at: 3), totals.int64(at: 4), totals.int64(at: 5))
        }
        totals.reset()
        let counters = try database.prepare("SELECT name, value FROM counters")
        while try counters.step() { s.counters[counters.text(at: 0) ?? ""] = counters.int64(at: 1) }
        let pages = try pageUsage()
        (s.databaseBytes, s.databaseFreeBytes) = (pages.usedBytes, pages.freeBytes)
        var wal = stat()
        if stat(spaceGuard.path + "-wal", &wal) == 0 { s.walBytes = Int64(wal.st_size) }
        s.uptimeSeconds = max(0, now - (try fact("created") ?? now))
        let backlog = try ledgerBacklog()
        s.ledgerRows = backlog.rows
        s.ledgerOldestAgeSeconds = backlog.oldest.map { max(0, now - $0) } ?? 0
        s.ledgerLastSeq = try ledger().lastIssued()
        if let control {
            s.listedTorrents = try control.database.scalar("SELECT count(*) FROM torrents")
            s.clientRules = try control.database.scalar("SELECT count(*) FROM client_rules")
        }
        if includingTop { (s.topByPeers, s.topBySeeders) = try busiestSwarms(now: now) }
        return s
    }

    /// The 100 swarms with the most peers and the 100 with the most seeders, at most a minute old.
    private func busiestSwarms(now: Int64) throws -> ([(hash: [UInt8], count: Int64)], [(hash: [UInt8], count: Int64)]) {
        let cached = try database.prepare("SELECT made, body FROM cache WHERE name = 'top100'")
        if try cached.step(), now - cached.int64(at: 0) < Self.topMaxAgeSeconds {
            return Self.decodeTop(cached.blob(at: 1))
        }
        cached.reset()
        func top(_ order: String) throws -> [(hash: [UInt8], count: Int64)] {
            let rows = try database.prepare("SELECT info_hash, \(order) AS n FROM torrents WHERE n > 0 ORDER BY n DESC LIMIT 100")
            var result: [(hash: [UInt8], count: Int64)] = []
            while try rows.step() { result.append((rows.blob(at: 0), rows.int64(at: 1))) }
            return result
        }
        let fresh = (try top("seeders + leechers"), try top("seeders"))
        try inWriteTransaction {
            let store = try database.prepare("""
                INSERT INTO cache (name, made, body) VALUES ('top100', ?1, ?2)
                ON CONFLICT (name) DO UPDATE SET made = excluded.made, body = excluded.body
                """)
            store.bind(now, at: 1)
            store.bind(Self.encodeTop(fresh), at: 2)
            try store.run()
        }
        return fresh
    }

    /// Two lists of (20-byte hash, 8-byte count), each preceded by its length in one byte.
    private static func encodeTop(_ lists: ([(hash: [UInt8], count: Int64)], [(hash: [UInt8], count: Int64)])) -> [UInt8] {
        var out: [UInt8] = []
        for list in [lists.0, lists.1] {
            out.append(UInt8(list.count))
            for entry in list {
                out += entry.hash
                out += withUnsafeBytes(of: entry.count.bigEndian, Array.init)
            }
        }
        return out
    }

    private static func decodeTop(_ bytes: [UInt8]) -> ([(hash: [UInt8], count: Int64)], [(hash: [UInt8], count: Int64)]) {
        var lists: [[(hash: [UInt8], count: Int64)]] = []
        var index = 0
        for _ in 0..<2 {
            guard index < bytes.count else { break }
            let count = Int(bytes[index])
            index += 1
            var list: [(hash: [UInt8], count: Int64)] = []
            for _ in 0..<count where index + 28 <= bytes.count {
                let value = bytes[index + 20..<index + 28].reduce(Int64(0)) { $0 << 8 | Int64($1) }
                list.append((Array(bytes[index..<index + 20]), value))
                index += 28
            }
            lists.append(list)
        }
        return (lists.first ?? [], lists.count > 1 ? lists[1] : [])
    }
}
