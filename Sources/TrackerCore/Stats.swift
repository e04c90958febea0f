/// Counts one worker keeps in memory until its upkeep adds them to the shared `counters` table,
/// about once a second: no write per request. A worker killed between two flushes loses what it
/// counted since the last one (at most about a second of its requests).
public final class StatsCounters {
    private var named: [String: Int64] = [:]
    /// The counts of every request and batch, kept apart from `named` so that the hot path adds
    /// to plain integers instead of hashing a name.
    private var announcesOK: Int64 = 0
    private var scrapesOK: Int64 = 0
    private var batches: Int64 = 0
    private var batchRequests: Int64 = 0
    private var batchSizes = [Int64](repeating: 0, count: StatsCounters.batchBuckets.count)

    public init() {}

    /// Everything counted since the last drain, by name.
    public var values: [String: Int64] {
        var all = named
        if announcesOK > 0 { all["request.announce.ok", default: 0] += announcesOK }
        if scrapesOK > 0 { all["request.scrape.ok", default: 0] += scrapesOK }
        if batches > 0 {
            all["batches", default: 0] += batches
            all["batch_requests", default: 0] += batchRequests
            for (name, count) in zip(Self.batchBucketNames, batchSizes) where count > 0 { all[name, default: 0] += count }
        }
        return all
    }

    public func add(_ name: String, _ amount: Int64 = 1) {
        switch name {
        case "request.announce.ok": announcesOK += amount
        case "request.scrape.ok": scrapesOK += amount
        default: named[name, default: 0] += amount
        }
    }

    /// What was counted since the last drain; forgets it.
    public func drain() -> [String: Int64] {
        defer {
            named.removeAll(keepingCapacity: true)
            (announcesOK, scrapesOK, batches, batchRequests) = (0, 0, 0, 0)
            for index in batchSizes.indices { batchSizes[index] = 0 }
        }
        return values
    }

    /// Counts one batch of `size` requests: a histogram with power-of-two buckets.
    public func addBatch(size: Int) {
        batches += 1
        batchRequests += Int64(size)
        for (index, bound) in Self.batchBuckets.enumerated() where size <= bound { batchSizes[index] += 1 }
    }

    public static let batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128]
    static let batchBucketNames = batchBuckets.map { "batch_size_le_\($0)" }
}

/// Everything /stats reports, read without scanning a table: totals the triggers keep, the
/// shared counters, file sizes, and (only for opentracker's `top100`) the busiest swarms, which
/// are recomputed at most once a minute.
public struct StatsSnapshot: Sendable {
    public var torrents: Int64 = 0
    public var seeders: Int64 = 0
    public var leechers: Int64 = 0
    public var peersIPv4: Int64 = 0
    public var peersIPv6: Int64 = 0
    public var completed: Int64 = 0
    /// Named counters (`announce.ok`, `scrape.unregistered_torrent`, `batches`, …).
    public var counters: [String: Int64] = [:]
    public var databaseBytes: Int64 = 0
    public var databaseFreeBytes: Int64 = 0
    public var walBytes: Int64 = 0
    /// Torrents on the access list and client rules; nil without a control database.
    public var listedTorrents: Int64?
    public var clientRules: Int64?
    /// Private tracking: ledger rows the site has not acknowledged yet, the age of the oldest
    /// (how far behind the site's drain is), and the last `seq` given out.
    public var ledgerRows: Int64 = 0
    public var ledgerOldestAgeSeconds: Int64 = 0
    public var ledgerLastSeq: Int64 = 0
    /// Seconds since the peers database was created (opentracker's uptime).
    public var uptimeSeconds: Int64 = 0
    /// The busiest swarms, by peers and by seeders; filled only when asked for.
    public var topByPeers: [(hash: [UInt8], count: Int64)] = []
    public var topBySeeders: [(hash: [UInt8], count: Int64)] = []

    public init() {}

    public var peers: Int64 { seeders + leechers }

    public func counter(_ name: String) -> Int64 { counters[name] ?? 0 }

    /// The request counters, as (route, outcome, count), sorted.
    public var requests: [(route: String, outcome: String, count: Int64)] {
        counters.compactMap { name, count -> (String, String, Int64)? in
            guard name.hasPrefix("request."), case let parts = name.split(separator: "."), parts.count == 3 else {
                return nil
            }
            return (String(parts[1]), String(parts[2]), count)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }
}

/// Where /stats gets its figures: the process's database and control database.
public protocol StatsSource: AnyObject {
    func snapshot(includingTop: Bool) throws -> StatsSnapshot
}

/// Full scrapes: a cached document every responder shares, and a per-address throttle.
public protocol FullScrapeSource: AnyObject {
    /// The bencoded full scrape (gzipped when `gzip`), or `TrackerFailure.fullScrapeThrottled`
    /// when `address` had one less than `policy.fullScrapeIntervalSeconds` ago.
    func fullScrape(for address: IPAddress, gzip: Bool, policy: Policy, now: Int64) throws -> [UInt8]
}
