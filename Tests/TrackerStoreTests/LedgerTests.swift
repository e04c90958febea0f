import Foundation
import Testing
import TrackerCore
@testable import TrackerStore

/// Private tracking's accounting against a real peers database: the crediting rules, a full
/// ledger holding credit back without losing it, session expiry, and acknowledgement.
@Suite struct LedgerTests {
    let hash = InfoHash(twenty(1, tag: 0xaa))!

    /// One private announce of `user`'s client `peer` straight to the store.
    func announce(
        _ fixture: Fixture, user: UInt32 = 1, peer: Int = 1, up: Int64, down: Int64 = 0, left: Int64 = 100,
        event: AnnounceEvent = .none, rate: Int64 = 0
    ) throws {
        var change = PeerAnnounce(
            infoHash: hash, endpoint: PeerEndpoint(address: IPAddress(text: Array("10.0.0.\(peer)".utf8))!, port: 6881),
            peerID: PeerID(twenty(peer, tag: 0x2d))!, removes: event == .stopped, isComplete: left == 0,
            completes: event == .completed && left == 0, expires: fixture.now + 3600, shuffle: UInt32(peer))
        change.session = SessionReport(
            user: user, uploaded: up, downloaded: down, left: left, event: event, implausibleRate: rate)
        _ = try fixture.store.announce(change, selection: PeerSelection(count: 10, start: 0), now: fixture.now)
    }

    func rows(_ fixture: Fixture) throws -> [LedgerRow] { try fixture.store.ledgerPage(after: 0, limit: 1000).rows }

    @Test func creditsGrowthOnceAndFlagsWhatTheSiteShouldReview() throws {
        let fixture = try Fixture()
        try announce(fixture, up: 500, down: 0, event: .started)
        fixture.now += 100
        try announce(fixture, up: 1500, down: 60)
        fixture.now += 100
        try announce(fixture, up: 1500, down: 100, left: 0, event: .completed)
        fixture.now += 10
        try announce(fixture, up: 1500, down: 100, left: 0, event: .completed)
        fixture.now += 50
        try announce(fixture, up: 1_000_000, down: 100, left: 0, event: .stopped, rate: 1000)
        let written = try rows(fixture)
        #expect(written.map(\.event) == ["started", "update", "completed", "update", "stopped"])
        #expect(written.map(\.uploaded) == [0, 1000, 0, 0, 998_500])
        #expect(written.map(\.downloaded) == [0, 60, 40, 0, 0])
        #expect(written.map(\.seconds) == [0, 100, 100, 10, 50])
        #expect(written.map(\.seeding) == [0, 0, 0, 10, 50])
        #expect(written[0].flags == .new)
        #expect(written[1].flags == .loneUpload)  // nobody else was downloading
        #expect(written[3].flags == .repeatCompleted)
        #expect(written[4].flags.contains(.rate))
        // stopped ended the session: the next announce starts a new one.
        try announce(fixture, up: 2_000_000, event: .started)
        #expect(try rows(fixture).last?.flags == .new)
    }

    @Test func aLowerCounterCreditsNothingAndBecomesTheBaseline() throws {
        let fixture = try Fixture()
        try announce(fixture, up: 1000)
        try announce(fixture, up: 200)
        try announce(fixture, up: 700)
        #expect(try rows(fixture).map(\.uploaded) == [0, 0, 500])
        #expect(try rows(fixture)[1].flags == .reset)
    }

    @Test func uploadToAnotherDownloaderIsNotLone() throws {
        let fixture = try Fixture()
        try announce(fixture, user: 2, peer: 2, up: 0, left: 100)  // a downloader
        try announce(fixture, user: 1, peer: 1, up: 0, left: 0)
        try announce(fixture, user: 1, peer: 1, up: 900, left: 0)
        #expect(try rows(fixture).last?.flags == [])
    }

    @Test func aFullLedgerHoldsCreditInTheSessionUntilTheSiteAcknowledges() throws {
        var limits = StoreLimits()
        limits.ledgerMaxRows = 2
        let fixture = try Fixture(limits: limits)
        try announce(fixture, up: 0, event: .started)
        try announce(fixture, up: 100)
        // Full: these are held, not written and not lost.
        try announce(fixture, up: 300)
        try announce(fixture, up: 350, down: 100, left: 0, event: .completed)
        #expect(try rows(fixture).count == 2)
        let page = try fixture.store.ledgerPage(after: 0, limit: 10)
        #expect(try fixture.store.acknowledgeLedger(epoch: page.epoch, through: page.last))
        try announce(fixture, up: 400, down: 100, left: 0)
        let after = try rows(fixture)
        #expect(after.map(\.event) == ["completed", "update"])  // the held snatch, then the credit
        #expect(after[1].uploaded == 300 && after[1].downloaded == 100)
        #expect(after[1].flags.contains(.deferred))
        #expect(after.map(\.seq) == [3, 4])
    }

    @Test func aSessionThatStopsWhileTheLedgerIsFullIsWrittenByTheUpkeep() throws {
        var limits = StoreLimits()
        limits.ledgerMaxRows = 1
        let fixture = try Fixture(limits: limits)
        try announce(fixture, up: 0, event: .started)
        try announce(fixture, up: 800, event: .stopped)
        #expect(try rows(fixture).count == 1)
        fixture.store.maintain(now: fixture.now)
        #expect(try rows(fixture).count == 1, "still full: nothing written, nothing lost")
        let page = try fixture.store.ledgerPage(after: 0, limit: 10)
        #expect(try fixture.store.acknowledgeLedger(epoch: page.epoch, through: page.last))
        fixture.store.maintain(now: fixture.now)
        let last = try rows(fixture)
        #expect(last.map(\.event) == ["stopped"] && last[0].uploaded == 800 && last[0].flags.contains(.deferred))
        #expect(try fixture.count("SELECT count(*) FROM sessions") == 0)
    }

    @Test func sessionsExpireWithARowAfterSessionSeconds() throws {
        var limits = StoreLimits()
        limits.sessionSeconds = 3600
        let fixture = try Fixture(limits: limits)
        try announce(fixture, user: 1, peer: 1, up: 0)
        try announce(fixture, user: 2, peer: 2, up: 0)
        fixture.now += 1800
        try announce(fixture, user: 2, peer: 2, up: 10)
        fixture.now += 1801
        fixture.store.maintain(now: fixture.now)
        let last = try #require(try rows(fixture).last)
        #expect(last.event == "expired" && last.user == 1)
        #expect(try fixture.count("SELECT count(*) FROM sessions") == 1)
    }

    @Test func theEpochStaysWithTheFileAndAWrongOneAcknowledgesNothing() throws {
        let fixture = try Fixture()
        try announce(fixture, up: 0)
        let epoch = try fixture.store.ledgerPage(after: 0, limit: 1).epoch
        #expect(epoch > 0)
        let reopened = try SQLitePeerStore(path: fixture.path)
        #expect(try reopened.ledgerPage(after: 0, limit: 1).epoch == epoch)
        #expect(try !reopened.acknowledgeLedger(epoch: epoch + 1, through: 100))
        #expect(try reopened.ledgerPage(after: 0, limit: 10).rows.count == 1)
        #expect(try reopened.ledgerBacklog().rows == 1)
    }
}
