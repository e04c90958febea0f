import Foundation
import Testing
import TrackerCore
import TrackerStore

/// Announces between `beginBatch` and `finishBatch` share one transaction (the FastCGI loop's
/// batches); what each reply says must be exactly what is stored once the batch is.
@Suite struct BatchTests {
    func counts(_ reply: Bencode) -> [Int64?] {
        [reply["complete"]?.integerValue, reply["incomplete"]?.integerValue]
    }

    @Test func aBatchIsOneTransactionThatOthersSeeOnlyOnceFinished() throws {
        let f = try Fixture()
        f.store.beginBatch()
        try f.announce(peer: 1, left: 0)
        let second = try f.announce(peer: 2, left: 10)
        #expect(counts(second) == [1, 1], "a later announce in the batch sees the earlier ones")
        #expect(ports(second) == [1001])
        #expect(try f.count("SELECT count(*) FROM peers") == 0, "another process sees nothing before the commit")
        #expect(f.store.finishBatch())
        #expect(try f.count("SELECT count(*) FROM peers") == 2)
        #expect(try f.count("SELECT seeders + leechers FROM torrents") == 2)
        // Outside a batch each announce commits on its own again.
        try f.announce(peer: 3, left: 10)
        #expect(try f.count("SELECT count(*) FROM peers") == 3)
    }

    @Test func aScrapeInABatchSeesTheBatchsAnnounces() throws {
        let f = try Fixture()
        try f.announce(peer: 1, left: 0)
        f.store.beginBatch()
        let alone = try f.scrape([1])  // before the batch wrote anything: its own read
        try f.announce(peer: 2, left: 10)
        let inside = try f.scrape([1])
        #expect(f.store.finishBatch())
        func file(_ reply: Bencode) -> [Int64?] {
            guard case .dictionary(let files)? = reply["files"], let counts = files[twenty(1, tag: 0xaa)] else { return [] }
            return [counts["complete"]?.integerValue, counts["incomplete"]?.integerValue]
        }
        #expect(file(alone) == [1, 0])
        #expect(file(inside) == [1, 1])
    }

    @Test func aBatchThatSQLiteRolledBackIsReportedLost() throws {
        let f = try Fixture()
        // An error that makes SQLite roll back the whole transaction, not just the statement,
        // as a full disk or an I/O error may; here for new peers of torrent 99 only.
        let poisoned = twenty(99, tag: 0xaa).map { String(format: "%02X", $0) }.joined()
        try f.store.database.execute("""
            CREATE TEMP TRIGGER poison BEFORE INSERT ON main.peers WHEN NEW.info_hash = X'\(poisoned)'
            BEGIN SELECT RAISE(ROLLBACK, 'rolled back by the test'); END
            """)
        f.store.beginBatch()
        #expect(try f.announce(peer: 1)["failure reason"] == nil)
        #expect(try f.announce(torrent: 99, peer: 2)["failure reason"] != nil)
        #expect(try f.announce(peer: 3)["failure reason"] == nil)
        #expect(!f.store.finishBatch(), "peer 1's reply said it was stored, and it is not")
        // Peer 1 went with the rollback; peer 3 came after it, in a transaction of its own.
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
    }

    @Test func aBatchThatCannotBeginFailsTheRestAtOnceAndLosesNothing() throws {
        let f = try Fixture(busyTimeoutMilliseconds: 50)
        try f.announce(peer: 1, left: 0)
        let blocker = try Database(path: f.path, busyTimeoutMilliseconds: 0)
        try blocker.execute("BEGIN IMMEDIATE")  // another process holding the write lock
        f.store.beginBatch()
        #expect(f.announceResponse(peer: 2).status == 503)
        try blocker.execute("ROLLBACK")
        // Not tried again in the same batch: a batch waits out the busy timeout once, not once
        // per request.
        #expect(f.announceResponse(peer: 3).status == 503)
        #expect(f.store.finishBatch(), "nothing answered as stored was lost")
        f.store.beginBatch()
        #expect(f.announceResponse(peer: 4).status == 200)
        #expect(f.store.finishBatch())
        #expect(try f.count("SELECT count(*) FROM peers") == 2)
    }
}
