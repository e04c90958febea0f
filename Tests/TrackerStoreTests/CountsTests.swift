import Foundation
import Testing
import TrackerCore
import TrackerStore

@Suite struct CountsTests {
    private func scrapeDownloaded(_ f: Fixture, _ torrent: Int) throws -> Int64 {
        let reply = try f.scrape([torrent])
        guard case .dictionary(let files)? = reply["files"], let counts = files[twenty(torrent, tag: 0xaa)] else { return -1 }
        return counts["downloaded"]?.integerValue ?? -1
    }

    @Test func countsAreCopiedToTheControlDatabaseAndComeBackToANewPeersDatabase() throws {
        let f = try Fixture(withControl: true)
        let control = f.control!
        try f.store.restoreCounts(from: control, now: f.now)  // a new peers database: nothing to add
        for peer in 1...3 { try f.announce(torrent: 1, peer: peer, left: 0, event: "completed") }
        try f.announce(torrent: 2, peer: 9, left: 0, event: "completed")
        #expect(try f.count("SELECT count(*) FROM unsaved_counts") == 2)

        #expect(try f.store.saveCountsIfDue(to: control, now: f.now, interval: 300) == 2)
        #expect(try f.count("SELECT count(*) FROM unsaved_counts") == 0)
        #expect(try f.store.saveCountsIfDue(to: control, now: f.now + 10, interval: 300) == 0, "not due again yet")

        // A reboot: the tmpfs files are gone; a new peers database gets the saved counts once.
        for suffix in ["", "-wal", "-shm"] { unlink(f.path + suffix) }
        let rebooted = try SQLitePeerStore(path: f.path)
        try rebooted.restoreCounts(from: control, now: f.now)
        try rebooted.restoreCounts(from: control, now: f.now)  // every worker does this; only one adds
        #expect(try rebooted.scrape([Fixture.infoHash(1), Fixture.infoHash(2)]).map(\.downloaded) == [3, 1])
        #expect(try f.count("SELECT count(*) FROM unsaved_counts") == 0, "what was restored is on disk already")
    }

    @Test func nothingIsCopiedBeforeTheSavedCountsWereAdded() throws {
        let f = try Fixture(withControl: true)
        try f.control!.saveCounts([(Fixture.infoHash(1).bytes, 10)])
        try f.announce(torrent: 1, peer: 1, left: 0, event: "completed")
        #expect(try f.store.saveCountsIfDue(to: f.control!, now: f.now, interval: 10) == 0)
        // Added late (the control database appeared after the peers database had counts): both kept.
        try f.store.restoreCounts(from: f.control!, now: f.now)
        #expect(try scrapeDownloaded(f, 1) == 11)
        #expect(try f.store.saveCountsIfDue(to: f.control!, now: f.now, interval: 10) == 1)
        var saved: [Int64] = []
        try f.control!.savedCounts { _, downloaded in saved.append(downloaded) }
        #expect(saved == [11])
    }

    @Test func aCopyWritesTheCurrentCountOverAnOlderOne() throws {
        let f = try Fixture(withControl: true)
        try f.store.restoreCounts(from: f.control!, now: f.now)
        try f.announce(torrent: 1, peer: 1, left: 0, event: "completed")
        // Another process's copy saved an older count: the mark stays until the current one is saved.
        try f.control!.saveCounts([(Fixture.infoHash(1).bytes, 1)])
        try f.announce(torrent: 1, peer: 2, left: 0, event: "completed")
        #expect(try f.store.saveCountsIfDue(to: f.control!, now: f.now, interval: 10) == 1)
        var saved: [Int64] = []
        try f.control!.savedCounts { _, downloaded in saved.append(downloaded) }
        #expect(saved == [2])
    }
}
