import Testing
import TrackerCore
import TrackerStore

@Suite struct AnnounceTests {
    @Test func countsSeedersAndLeechersAndNeverHandsOutSelf() throws {
        let f = try Fixture()
        let first = try f.announce(peer: 1, left: 0)
        #expect(first["complete"]?.integerValue == 1)
        #expect(first["incomplete"]?.integerValue == 0)
        #expect(compactPeers(first).isEmpty)

        let second = try f.announce(peer: 2, left: 50)
        #expect(second["complete"]?.integerValue == 1)
        #expect(second["incomplete"]?.integerValue == 1)
        #expect(ports(second) == [1001])
        #expect(second["interval"]?.integerValue.map { (1620...1980).contains($0) } == true)
        #expect(second["min interval"]?.integerValue == 900)
        #expect(second["external ip"]?.bytesValue == [10, 0, 0, 2])
    }

    @Test func reannounceUpdatesInPlaceAndNewPeerIDReplacesOldEntry() throws {
        let f = try Fixture()
        try f.announce(peer: 1, address: "10.0.0.1", port: 7000, left: 10)
        try f.announce(peer: 1, address: "10.0.0.1", port: 7000, left: 10)
        try f.announce(peer: 99, address: "10.0.0.1", port: 7000, left: 0)  // same ip:port, new peer_id: same peer, now seeding
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
        let scrape = try f.scrape([1])
        guard case .dictionary(let files)? = scrape["files"], let counts = files[twenty(1, tag: 0xaa)] else {
            Issue.record("scrape has no entry for the torrent"); return
        }
        #expect(counts["complete"]?.integerValue == 1)
        #expect(counts["incomplete"]?.integerValue == 0)
    }

    @Test func stoppedRemovesThePeerAndGetsNoPeers() throws {
        let f = try Fixture()
        try f.announce(peer: 1, left: 0)
        try f.announce(peer: 2, left: 5)
        let stop = try f.announce(peer: 2, left: 5, event: "stopped")
        #expect(compactPeers(stop).isEmpty)
        #expect(stop["complete"]?.integerValue == 1)
        #expect(stop["incomplete"]?.integerValue == 0)
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
        try f.announce(peer: 1, left: 0, event: "stopped")
        #expect(try f.count("SELECT count(*) FROM peers") == 0)
        #expect(try f.count("SELECT count(*) FROM torrents") == 0, "an empty swarm with no downloads is forgotten")
    }

    @Test func completedCountsOncePerPeer() throws {
        let f = try Fixture()
        try f.announce(peer: 1, left: 10, event: "started")
        let done = try f.announce(peer: 1, left: 0, event: "completed")
        #expect(done["downloaded"]?.integerValue == 1)
        #expect(done["complete"]?.integerValue == 1)
        #expect(done["incomplete"]?.integerValue == 0)
        let again = try f.announce(peer: 1, left: 0, event: "completed")
        #expect(again["downloaded"]?.integerValue == 1)
        let lying = try f.announce(peer: 2, left: 5, event: "completed")  // left > 0: not a completion
        #expect(lying["downloaded"]?.integerValue == 1)
        try f.announce(peer: 3, left: 0, event: "completed")
        try f.announce(peer: 1, left: 0, event: "stopped")
        try f.announce(peer: 2, left: 5, event: "stopped")
        let last = try f.announce(peer: 3, left: 0, event: "stopped")
        #expect(last["downloaded"]?.integerValue == 2, "downloaded outlives the peers")
        #expect(try f.count("SELECT count(*) FROM torrents") == 1)
    }

    @Test func expiredPeersAreNeverHandedOutAndArePurged() throws {
        let f = try Fixture()
        for peer in 1...5 { try f.announce(peer: peer, left: 0) }
        f.now += 3000  // past the TTL (at most 1980 × 1.5 = 2970 s)
        let late = try f.announce(peer: 6, left: 10)
        #expect(compactPeers(late).isEmpty)
        #expect(late["complete"]?.integerValue == 0, "the sweep removed the expired seeders before counting")
        #expect(late["incomplete"]?.integerValue == 1)
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
    }

    @Test func sweepIsBoundedPerAnnounceAndEventuallyCoversEveryone() throws {
        let f = try Fixture()
        for peer in 1...200 { try f.announce(torrent: peer % 4, peer: peer, left: 0) }
        f.now += 3000
        let stored = try f.count("SELECT count(*) FROM peers")
        try f.announce(torrent: 9, peer: 1000, left: 1)
        let afterOne = try f.count("SELECT count(*) FROM peers")
        #expect(afterOne == stored + 1 - 8, "one announce examines only 8 peers")
        for i in 0..<40 { try f.announce(torrent: 9, peer: 1001 + i, left: 1) }
        #expect(try f.count("SELECT count(*) FROM peers WHERE expires < \(f.now)") == 0)
        #expect(try f.count("SELECT sum(seeders + leechers) FROM torrents") == f.count("SELECT count(*) FROM peers"))
    }

    @Test func numWantIsHonouredCappedAndZeroMeansNone() throws {
        var policy = Policy()
        policy.maxNumWant = 30
        let f = try Fixture(policy: policy)
        for peer in 1...60 { try f.announce(peer: peer, left: 5) }
        #expect(compactPeers(try f.announce(peer: 100, left: 5)).count == 30)
        #expect(compactPeers(try f.announce(peer: 100, left: 5, extra: "&numwant=7")).count == 7)
        #expect(compactPeers(try f.announce(peer: 100, left: 5, extra: "&numwant=0")).isEmpty)
        #expect(compactPeers(try f.announce(peer: 100, left: 5, extra: "&numwant=1000")).count == 30)
    }

    @Test func seedersAreHandedOnlyDownloaders() throws {
        let f = try Fixture()
        for peer in 1...10 { try f.announce(peer: peer, left: 0) }  // seeders: ports 1001-1010
        for peer in 11...15 { try f.announce(peer: peer, left: 9) }  // leechers: ports 1011-1015
        try f.announce(peer: 16, left: 9, event: "paused")  // BEP 21 partial seed: not a downloader
        let seeder = try f.announce(peer: 1, left: 0)
        #expect(ports(seeder) == Set(1011...1015))
        let partial = try f.announce(peer: 16, left: 9, event: "paused")
        #expect(ports(partial) == Set(1011...1015))
        let leecher = try f.announce(peer: 11, left: 9)
        #expect(ports(leecher) == Set(1001...1016).subtracting([1011]))
    }

    @Test func downloaderGetsAMixOfSeedersAndLeechersInProportion() throws {
        let f = try Fixture()
        for peer in 1...100 { try f.announce(peer: peer, left: 0) }
        for peer in 101...200 { try f.announce(peer: peer, left: 3) }
        let reply = try f.announce(peer: 300, left: 3, extra: "&numwant=20")
        let got = ports(reply)
        #expect(got.count == 20)
        let seeders = got.filter { $0 <= 1100 }.count
        #expect((8...12).contains(seeders), "about half of the peers are seeders, got \(seeders)")
    }

    @Test func regularReannounceKeepsThePeersPlaceAndStartedRedrawsIt() throws {
        let f = try Fixture()
        try f.announce(peer: 1, left: 5)
        let place = try f.count("SELECT shuffle FROM peers")
        try f.announce(peer: 1, left: 5)
        #expect(try f.count("SELECT shuffle FROM peers") == place)
        try f.announce(peer: 1, left: 5, event: "started")
        #expect(try f.count("SELECT shuffle FROM peers") != place)
        try f.announce(peer: 1, left: 0)  // now seeding: moves to the seeders' part of the swarm
        #expect(try f.count("SELECT seeding FROM peers") == 1)
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
        #expect(try f.count("SELECT seeders FROM torrents") == 1)
        #expect(try f.count("SELECT leechers FROM torrents") == 0)
    }

    @Test func selectionIsRandomAndDistinct() throws {
        let f = try Fixture()
        for peer in 1...300 { try f.announce(peer: peer, left: 1) }
        var seen = Set<Int>()
        for _ in 0..<10 {
            let reply = try f.announce(peer: 1, left: 1, extra: "&numwant=50")
            let peers = compactPeers(reply)
            #expect(peers.count == 50)
            #expect(Set(peers).count == 50, "no peer twice in one reply")
            #expect(!ports(reply).contains(1001), "never the announcer")
            seen.formUnion(ports(reply))
        }
        #expect(seen.count > 200, "ten replies of 50 cover most of a 300-peer swarm (got \(seen.count))")
    }

    @Test func ipv4AndIPv6PeersGoToPeersAndPeers6() throws {
        let f = try Fixture()
        try f.announce(peer: 1, address: "10.0.0.1", left: 0)
        try f.announce(peer: 2, address: "::ffff:10.0.0.2", left: 0)  // a mapped address is IPv4
        try f.announce(peer: 3, address: "2001:db8::3", left: 0)
        let reply = try f.announce(peer: 4, address: "2001:db8::4", left: 5)
        #expect(compactPeers(reply).map { Array($0.prefix(4)) }.sorted { $0.lexicographicallyPrecedes($1) } == [[10, 0, 0, 1], [10, 0, 0, 2]])
        let six = compactPeers(reply, key: "peers6")
        #expect(six.count == 1)
        #expect(six.first.map { Array($0.prefix(16)) } == IPAddress("2001:db8::3")!.bytes)
        #expect(reply["external ip"]?.bytesValue == IPAddress("2001:db8::4")!.bytes)
        #expect(reply["complete"]?.integerValue == 3)
    }

    @Test func dictionaryRepliesCarryPeerIDsUnlessRefused() throws {
        let f = try Fixture()
        try f.announce(peer: 1, address: "10.0.0.9", left: 0)
        let reply = try f.announce(peer: 2, left: 5, extra: "&compact=0")
        guard case .list(let peers)? = reply["peers"], let peer = peers.first else { Issue.record("no peer list"); return }
        #expect(peers.count == 1)
        #expect(peer["ip"]?.stringValue == "10.0.0.9")
        #expect(peer["port"]?.integerValue == 1001)
        #expect(peer["peer id"]?.bytesValue == twenty(1, tag: 0x2d))
        let bare = try f.announce(peer: 2, left: 5, extra: "&compact=0&no_peer_id=1")
        guard case .list(let barePeers)? = bare["peers"] else { Issue.record("no peer list"); return }
        #expect(barePeers.first?["peer id"] == nil)
    }
}
