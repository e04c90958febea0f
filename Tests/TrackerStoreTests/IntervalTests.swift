import Foundation
import Testing
import TrackerCore
import TrackerStore

@Suite struct IntervalTests {
    @Test func adaptiveIntervalTracksThePeerCountWithinItsBounds() throws {
        var policy = Policy()
        policy.intervalMode = .adaptive
        policy.targetAnnounceRate = 0.1  // one announce every 10 s: the interval is 10 s per peer
        policy.intervalMin = 300
        policy.intervalMax = 900
        policy.intervalJitter = 0
        let f = try Fixture(policy: policy)
        func interval(_ peer: Int) throws -> (Int64, Int64) {
            let reply = try f.announce(torrent: 1 + peer % 7, peer: peer)
            return (reply["interval"]?.integerValue ?? -1, reply["min interval"]?.integerValue ?? -1)
        }
        #expect(try interval(1) == (300, 150), "one peer: the floor")
        for peer in 2...40 { try f.announce(torrent: 1 + peer % 7, peer: peer) }
        f.now += 1  // read at most once a second
        #expect(try interval(41) == (400, 200), "40 peers stored at 0.1/s: 400 s")
        for peer in 42...200 { try f.announce(torrent: 1 + peer % 7, peer: peer) }
        f.now += 1
        #expect(try interval(201) == (900, 450), "the ceiling")
        // Peers leave: the interval comes down again.
        for peer in 50...201 { try f.announce(torrent: 1 + peer % 7, peer: peer, event: "stopped") }
        f.now += 1
        #expect(try interval(300) == (490, 245), "49 peers")
        let scrape = try f.scrape([1])
        #expect(scrape["flags"]?["min_request_interval"]?.integerValue == 245, "the same second: the same figure")
    }

    @Test func earlyReannouncesAreWarnedOrRefusedButEventsNever() throws {
        var policy = Policy()
        policy.earlyAnnounce = .refuse
        let f = try Fixture(policy: policy)
        #expect(try f.announce(peer: 1)["failure reason"] == nil)
        f.now += 100
        let early = try f.announce(peer: 1)
        #expect(early["failure reason"]?.stringValue == "announced too soon: wait min interval between regular announces")
        #expect(early["retry in"]?.integerValue == 15)
        #expect(try f.announce(peer: 1, left: 0, event: "completed")["failure reason"] == nil)
        #expect(try f.announce(peer: 1, event: "stopped")["failure reason"] == nil)
        #expect(try f.announce(peer: 2)["failure reason"] == nil, "a new peer is never early")
        f.now += 900
        #expect(try f.announce(peer: 2)["failure reason"] == nil, "after min interval")

        policy.earlyAnnounce = .warn
        let g = try Fixture(policy: policy)
        try g.announce(peer: 1)
        g.now += 10
        let warned = try g.announce(peer: 1)
        #expect(warned["failure reason"] == nil && warned["peers"] != nil)
        #expect(warned["warning message"]?.stringValue?.hasPrefix("announced too soon") == true)
    }

    @Test func aPeersDatabaseFromBeforeTheAnnouncedColumnGetsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-old-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("peers.db").path
        let old = try Database(path: path, busyTimeoutMilliseconds: 1000)
        try old.execute("""
            CREATE TABLE peers (info_hash BLOB NOT NULL, seeding INTEGER NOT NULL, shuffle INTEGER NOT NULL,
                endpoint BLOB NOT NULL, peer_id BLOB NOT NULL, complete INTEGER NOT NULL, completed INTEGER NOT NULL,
                expires INTEGER NOT NULL, PRIMARY KEY (info_hash, seeding, shuffle, endpoint)) WITHOUT ROWID;
            INSERT INTO peers VALUES (zeroblob(20), 0, 1, x'0a0000010400', zeroblob(20), 0, 0, 9999999999);
            """)
        let store = try SQLitePeerStore(path: path)
        #expect(try store.database.scalar("SELECT announced FROM peers") == 0)
        #expect(try store.database.scalar("SELECT leechers FROM totals") == 1, "totals counted once from the rows")
    }
}
