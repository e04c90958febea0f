import Glibc
import Testing
import TrackerCore
import TrackerStore

/// The store's statistics, read the way /stats reads them.
final class StoreStats: StatsSource {
    let store: SQLitePeerStore
    let control: SQLiteControlStore?
    let now: () -> Int64

    init(_ f: Fixture) {
        store = f.store
        control = f.control
        now = { [unowned f] in f.now }
    }

    func snapshot(includingTop: Bool) throws -> StatsSnapshot {
        try store.statsSnapshot(control: control, includingTop: includingTop, now: now())
    }
}

@Suite struct StatsTests {
    private func fixture(_ configure: (inout Policy) -> Void = { _ in }) throws -> (Fixture, StatsCounters) {
        var policy = Policy()
        configure(&policy)
        let f = try Fixture(policy: policy, withControl: true)
        let counters = StatsCounters()
        f.tracker.counters = counters
        f.tracker.statsSource = StoreStats(f)
        return (f, counters)
    }

    private func text(_ response: TrackerResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func onlyAllowedNetworksOrTheTokenMayRead() throws {
        let (f, _) = try fixture { $0.statsToken = "0123456789abcdef-secret" }
        #expect(f.respond(path: "/stats", query: "", remoteAddress: "127.0.0.1").status == 200)
        #expect(f.respond(path: "/tracker/stats", query: "", remoteAddress: "::1").status == 200)
        #expect(f.respond(path: "/stats", query: "", remoteAddress: "203.0.113.9").status == 403)
        #expect(f.respond(path: "/stats", query: "token=wrong-token-of-same-len", remoteAddress: "203.0.113.9").status == 403)
        #expect(f.respond(path: "/stats", query: "token=0123456789abcdef-secret", remoteAddress: "203.0.113.9").status == 200)
        var request = TrackerRequest(path: "/stats", query: "", remoteAddress: "203.0.113.9")
        request.authorization = Array("Bearer 0123456789abcdef-secret".utf8)
        #expect(f.tracker.respond(to: request).status == 200)
        let (hidden, _) = try fixture { $0.statsDeniedStatus = 404; $0.statsAllow = [] }
        #expect(hidden.respond(path: "/stats", query: "", remoteAddress: "127.0.0.1").status == 404)
    }

    @Test func countersAreAddedOncePerFlushAndReportedInEveryFormat() throws {
        let (f, counters) = try fixture()
        try f.announce(torrent: 1, peer: 1, left: 0, event: "completed")
        try f.announce(torrent: 1, peer: 2, address: "2001:db8::2")
        try f.announce(torrent: 2, peer: 3, extra: "&port=0")
        _ = try f.scrape([1])
        #expect(f.respond(path: "/favicon.ico", query: "").status == 404)
        counters.addBatch(size: 3)
        try f.store.addCounters(counters.drain())
        #expect(counters.values.isEmpty)

        let prometheus = text(f.respond(path: "/stats", query: "", remoteAddress: "127.0.0.1"))
        for line in [
            "shoal_torrents 1", "shoal_peers{family=\"ipv4\"} 1", "shoal_peers{family=\"ipv6\"} 1", "shoal_seeders 1",
            "shoal_leechers 1", "shoal_completed_total 1", "shoal_requests_total{route=\"announce\",outcome=\"ok\"} 2",
            "shoal_requests_total{route=\"announce\",outcome=\"invalid_port\"} 1",
            "shoal_requests_total{route=\"scrape\",outcome=\"ok\"} 1",
            "shoal_requests_total{route=\"other\",outcome=\"not_found\"} 1", "shoal_batch_size_bucket{le=\"2\"} 0",
            "shoal_batch_size_bucket{le=\"4\"} 1", "shoal_batch_size_sum 3", "shoal_listed_torrents 0",
        ] {
            #expect(prometheus.contains(line + "\n"), "\(line)")
        }
        let json = text(f.respond(path: "/stats", query: "format=json", remoteAddress: "127.0.0.1"))
        #expect(json.contains("\"torrents\": 1,") && json.contains("\"announce\": {\"invalid_port\": 1, \"ok\": 2}"))
        let peer = text(f.respond(path: "/stats", query: "mode=peer", remoteAddress: "127.0.0.1"))
        #expect(peer == "2\n1\nopentracker serving 1 torrents\nopentracker")
        let top = text(f.respond(path: "/stats", query: "mode=top100", remoteAddress: "127.0.0.1"))
        let hash = "AA" + String(repeating: "0", count: 37) + "1"
        #expect(top == "Top 100 torrents by peers:\n\t2\t\(hash)\nTop 100 torrents by seeds:\n\t1\t\(hash)\n")
        #expect(f.respond(path: "/stats", query: "mode=nonsense", remoteAddress: "127.0.0.1").status == 400)
    }

    @Test func top100IsComputedAtMostOnceAMinute() throws {
        let (f, _) = try fixture()
        try f.announce(torrent: 1, peer: 1)
        let first = text(f.respond(path: "/stats", query: "mode=top100", remoteAddress: "127.0.0.1"))
        try f.announce(torrent: 2, peer: 2)
        try f.announce(torrent: 2, peer: 3)
        f.now += 30
        #expect(text(f.respond(path: "/stats", query: "mode=top100", remoteAddress: "127.0.0.1")) == first, "cached")
        f.now += 31
        #expect(text(f.respond(path: "/stats", query: "mode=top100", remoteAddress: "127.0.0.1")) != first)
    }
}

@Suite struct FullScrapeTests {
    @Test func theBodyHoldsEveryAllowedSwarmAndGzipRoundTrips() throws {
        let f = try Fixture()
        try f.announce(torrent: 2, peer: 1, left: 0, event: "completed")
        try f.announce(torrent: 1, peer: 2, left: 5, event: "paused")
        try f.announce(torrent: 1, peer: 3, left: 5)
        let body = try f.store.fullScrapeBody { _ in true }
        let scrape = try f.scrape([1, 2])
        #expect(try Bencode.decode(body)["files"] == scrape["files"], "the same entries as a scrape of every hash")
        let onlyTwo = try f.store.fullScrapeBody { $0 == twenty(2, tag: 0xaa) }
        guard case .dictionary(let files)? = try Bencode.decode(onlyTwo)["files"] else { Issue.record("no files"); return }
        #expect(Array(files.keys) == [twenty(2, tag: 0xaa)])
        #expect(Gzip.decompress(Gzip.compress(body)!) == body)
    }

    @Test func oneAddressGetsOnePerInterval() throws {
        let f = try Fixture()
        let address = IPAddress(text: Array("192.0.2.1".utf8))!
        #expect(try f.store.claimFullScrape(for: address, interval: 600, now: f.now))
        #expect(try !f.store.claimFullScrape(for: address, interval: 600, now: f.now + 599))
        #expect(try f.store.claimFullScrape(for: IPAddress(text: Array("192.0.2.2".utf8))!, interval: 600, now: f.now))
        #expect(try f.store.claimFullScrape(for: address, interval: 600, now: f.now + 600))
        try f.store.forgetFullScrapeClients(before: f.now + 1)
        #expect(try f.count("SELECT count(*) FROM full_scrape_clients") == 1)
    }

    @Test func aStaleCopyIsServedAndMadeAgainOnceOutsideTheRequest() throws {
        let f = try Fixture()
        let cache = FullScrapeCache(databasePath: f.path, mode: 0o600)
        var made = 0
        let first = try cache.body(gzip: false, maxAge: 60, now: f.now) { made += 1; return Array("first".utf8) }
        #expect(first == Array("first".utf8) && made == 1)
        let gzipped = try cache.body(gzip: true, maxAge: 60, now: f.now) { made += 1; return [] }
        #expect(Gzip.decompress(gzipped) == Array("first".utf8) && made == 1)
        // Two minutes on (the file's time is the real clock's): the old copy is served, not made.
        let later = Int64(time(nil)) + 120
        #expect(try cache.body(gzip: false, maxAge: 60, now: later) { made += 1; return [] } == Array("first".utf8))
        #expect(made == 1)
        try cache.refreshIfWanted(maxAge: 60, now: later) { made += 1; return Array("second".utf8) }
        try cache.refreshIfWanted(maxAge: 60, now: later) { made += 1; return [] }
        #expect(made == 2, "once")
        #expect(try cache.body(gzip: false, maxAge: 60, now: later) { [] } == Array("second".utf8))
    }
}
