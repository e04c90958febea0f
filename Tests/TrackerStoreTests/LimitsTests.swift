import Glibc
import Testing
import TrackerCore
import TrackerStore

/// The store's bounds: peers per address in a swarm, the database's size, and expiry that does not
/// wait for announces.
@Suite struct LimitsTests {
    func counts(_ fixture: Fixture, torrent: Int) throws -> Bencode? {
        guard case .dictionary(let files)? = try fixture.scrape([torrent])["files"] else { return nil }
        return files[twenty(torrent, tag: 0xaa)]
    }

    @Test func oneAddressFloodingPortsOnlyReplacesItsOwnEntries() throws {
        var limits = StoreLimits()
        limits.maxPeersPerAddress = 4
        var policy = Policy()
        policy.intervalJitter = 0  // so that each later announce expires later
        let fixture = try Fixture(policy: policy, limits: limits)
        // An honest peer of another address, then a flood of ports from one address.
        try fixture.announce(peer: 1, address: "10.0.0.9", left: 0)
        for n in 0..<200 {
            fixture.now += 1
            try fixture.announce(peer: 100 + n, address: "10.6.6.6", port: 20000 + n)
        }
        #expect(try fixture.count("SELECT count(*) FROM peers") == 5)
        #expect(try fixture.count("SELECT count(*) FROM peers WHERE substr(endpoint, 1, 4) = x'0a060606'") == 4)
        // The ones kept are the newest (the others would have expired first).
        let reply = try fixture.announce(peer: 2, address: "10.0.0.10")
        let flooded = compactPeers(reply).filter { $0.starts(with: [10, 6, 6, 6]) }
        #expect(Set(flooded.map { Int($0[4]) << 8 | Int($0[5]) }) == Set((196..<200).map { 20000 + $0 }))
        let files = try counts(fixture, torrent: 1)
        #expect(files?["incomplete"]?.integerValue == 5 && files?["complete"]?.integerValue == 1)
        // A known peer of a capped address still re-announces without pushing anyone out.
        try fixture.announce(peer: 299, address: "10.6.6.6", port: 20199)
        #expect(try fixture.count("SELECT count(*) FROM peers WHERE substr(endpoint, 1, 4) = x'0a060606'") == 4)
    }

    @Test func anIPv6PeerIsNotCountedWithAnIPv4AddressThatPrefixesIt() throws {
        var limits = StoreLimits()
        limits.maxPeersPerAddress = 1
        let fixture = try Fixture(limits: limits)
        try fixture.announce(peer: 1, address: "10.0.0.1", port: 1)
        // 0a00:0001:0000:: begins with the same four bytes and an endpoint of 18.
        try fixture.announce(peer: 2, address: "a00:1::1", port: 1)
        #expect(try fixture.count("SELECT count(*) FROM peers") == 2)
    }

    @Test func aFullDatabaseRefusesNewPeersButKeepsServingKnownOnes() throws {
        var limits = StoreLimits()
        limits.maxDatabaseBytes = 1 << 20
        let fixture = try Fixture(limits: limits)
        var refused = 0
        var n = 0
        while refused == 0, n < 40_000 {
            n += 1
            let reply = try fixture.announce(torrent: n, peer: n)
            if reply["failure reason"]?.bytesValue == Array("tracker is full: no new peers or torrents for now, retry later".utf8) {
                #expect(reply["retry in"]?.integerValue == 1)
                refused += 1
            }
        }
        #expect(refused == 1)
        #expect(fixture.logs.contains { $0.contains("max-database-size is 1048576") })
        // A known peer re-announces, and stopping works.
        let again = try fixture.announce(torrent: 1, peer: 1)
        #expect(again["failure reason"] == nil)
        _ = try fixture.announce(torrent: 2, peer: 2, event: "stopped")
        #expect(try fixture.count("SELECT count(*) FROM peers WHERE info_hash = x'aa00000000000000000000000000000000000002'") == 0)
        // Once peers expire, there is room again.
        fixture.now += 3 * 3600
        fixture.store.maintain(now: fixture.now)
        for _ in 0..<20 { fixture.store.maintain(now: fixture.now) }
        let fresh = try fixture.announce(torrent: 1_000_000, peer: 1)
        #expect(fresh["failure reason"] == nil)
    }

    @Test func upkeepExpiresPeersWithoutAnyAnnounce() throws {
        let fixture = try Fixture()
        for n in 0..<5000 { try fixture.announce(torrent: n % 7, peer: n) }
        #expect(try fixture.count("SELECT sum(seeders + leechers) FROM torrents") == 5000)
        fixture.now += 3 * 3600
        fixture.store.maintain(now: fixture.now)
        // At most 512 deleted per step: ten steps more than enough for 5,000.
        for _ in 0..<10 { fixture.store.maintain(now: fixture.now) }
        #expect(try fixture.count("SELECT count(*) FROM peers") == 0)
        #expect(try fixture.count("SELECT count(*) FROM torrents") == 0)
        #expect(try counts(fixture, torrent: 1)?["incomplete"]?.integerValue == 0)
    }

    @Test func aDatabaseIsCreatedOwnerOnly() throws {
        let fixture = try Fixture()
        var info = stat()
        #expect(stat(fixture.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }
}
