import Testing
import TrackerCore
import TrackerStore

@Suite struct TotalsTests {
    /// What the triggers keep must equal what counting the rows gives, after any mix of joins,
    /// completions, pauses, seeding changes, stops and expiry, over IPv4 and IPv6.
    @Test func triggerKeptTotalsEqualCountsOfTheRows() throws {
        let f = try Fixture()
        var random = FastRandom(seed: 7)
        for step in 0..<3000 {
            let peer = Int(random.next() % 300)
            let torrent = Int(random.next() % 20)
            let address = peer % 3 == 0 ? "2001:db8::\(peer)" : nil
            switch random.next() % 6 {
            case 0: try f.announce(torrent: torrent, peer: peer, address: address, left: 0, event: "completed")
            case 1: try f.announce(torrent: torrent, peer: peer, address: address, left: 5, event: "paused")
            case 2: try f.announce(torrent: torrent, peer: peer, address: address, left: 0, event: "stopped")
            case 3: try f.announce(torrent: torrent, peer: peer, address: address, left: 0)
            default: try f.announce(torrent: torrent, peer: peer, address: address, left: 9)
            }
            if step % 500 == 499 { f.now += 4000 }  // everything so far expires
        }
        let expected = """
            SELECT (SELECT count(*) FROM torrents), (SELECT count(*) FROM peers WHERE complete = 1),
                (SELECT count(*) FROM peers WHERE complete = 0), (SELECT count(*) FROM peers WHERE length(endpoint) = 6),
                (SELECT count(*) FROM peers WHERE length(endpoint) = 18), (SELECT sum(downloaded) FROM torrents)
            """
        let kept = "SELECT torrents, seeders, leechers, ipv4, ipv6, completed FROM totals"
        let database = try Database(path: f.path, busyTimeoutMilliseconds: 1000)
        let a = try database.prepare(expected)
        let b = try database.prepare(kept)
        #expect(try a.step() && b.step())
        for column: Int32 in 0..<6 { #expect(a.int64(at: column) == b.int64(at: column), "column \(column)") }
        #expect(b.int64(at: 3) > 0 && b.int64(at: 4) > 0 && b.int64(at: 5) > 0)
        #expect(try database.scalar("""
            SELECT count(*) FROM (SELECT info_hash, count(*) AS n FROM peers WHERE seeding = 1 AND complete = 0 GROUP BY info_hash)
            p FULL JOIN partial_seeds s USING (info_hash) WHERE p.n IS NOT s.count
            """) == 0)
        #expect(try database.scalar("SELECT count(*) FROM partial_seeds") ?? 0 > 0)
    }
}
