import Testing
import TrackerCore
import TrackerStore

@Suite struct AccessListTests {
    private func policy(_ access: AccessMode) -> Policy {
        var policy = Policy()
        policy.access = access
        return policy
    }

    private func register(_ f: Fixture, _ torrents: Int...) throws {
        try f.control!.database.writeTransaction {
            for n in torrents {
                _ = try f.control!.register(RegisteredTorrent(hashes: [TorrentHash(Fixture.infoHash(n), version: 0)], added: f.now))
            }
        }
    }

    @Test func whitelistRefusesUnregisteredTorrentsAndStoresNothingOfThem() throws {
        let f = try Fixture(policy: policy(.whitelist), withControl: true)
        try register(f, 1)
        let refused = try f.announce(torrent: 2, peer: 1)
        #expect(refused["failure reason"]?.stringValue == "torrent not registered with this tracker")
        #expect(refused["retry in"]?.integerValue == 60)
        #expect(try f.count("SELECT count(*) FROM peers") == 0)
        #expect(try f.count("SELECT count(*) FROM torrents") == 0)
        let served = try f.announce(torrent: 1, peer: 1)
        #expect(served["failure reason"] == nil)
        #expect(served["incomplete"]?.integerValue == 1)
    }

    @Test func blacklistRefusesListedTorrentsOnly() throws {
        let f = try Fixture(policy: policy(.blacklist), withControl: true)
        try register(f, 1)
        #expect(try f.announce(torrent: 1, peer: 1)["failure reason"]?.stringValue == "torrent is banned on this tracker")
        #expect(try f.announce(torrent: 2, peer: 1)["failure reason"] == nil)
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
    }

    @Test func scrapeLeavesRefusedTorrentsOut() throws {
        let f = try Fixture(policy: policy(.whitelist), withControl: true)
        try register(f, 1, 3)
        let reply = try f.scrape([1, 2, 3])
        guard case .dictionary(let files)? = reply["files"] else { Issue.record("no files"); return }
        #expect(Set(files.keys) == [twenty(1, tag: 0xaa), twenty(3, tag: 0xaa)])
    }

    @Test func aChangeByAnotherConnectionIsSeenOnTheNextRequest() throws {
        let f = try Fixture(policy: policy(.whitelist), withControl: true)
        // The operator's command: another connection (another process) to the same file.
        let operatorsCommand = try SQLiteControlStore(path: f.controlPath, durable: true)
        #expect(try f.announce(torrent: 5, peer: 1)["failure reason"] != nil)
        _ = try operatorsCommand.register(RegisteredTorrent(hashes: [TorrentHash(Fixture.infoHash(5), version: 0)], added: 0))
        #expect(try f.announce(torrent: 5, peer: 1)["failure reason"] == nil)
        #expect(try operatorsCommand.unregister(Fixture.infoHash(5)))
        #expect(try f.announce(torrent: 5, peer: 1)["failure reason"] != nil)
    }

    @Test func clientRulesAllowListDenyWinsAndChangesAreLive() throws {
        let f = try Fixture(withControl: true)
        let operatorsCommand = try SQLiteControlStore(path: f.controlPath, durable: true)
        // Fixture peer_ids start with 0x2d ("-") followed by zeros.
        #expect(try f.announce(peer: 1)["failure reason"] == nil)
        try operatorsCommand.setClientRule(ClientRule(prefix: bytes("-qB"), kind: .allow, added: 0))
        let refused = try f.announce(peer: 1)
        #expect(refused["failure reason"]?.stringValue == "client not allowed on this tracker")
        #expect(refused["retry in"]?.integerValue == 60)
        try operatorsCommand.setClientRule(ClientRule(prefix: [0x2d, 0], kind: .allow, added: 0))
        #expect(try f.announce(peer: 1)["failure reason"] == nil)
        try operatorsCommand.setClientRule(ClientRule(prefix: [0x2d, 0, 0], kind: .deny, added: 0))
        #expect(try f.announce(peer: 1)["failure reason"] != nil)
        #expect(try operatorsCommand.removeClientRule(prefix: [0x2d, 0, 0]))
        #expect(try f.announce(peer: 1)["failure reason"] == nil)
    }

    @Test func aClosedTrackerWithoutItsControlDatabaseAnswers503() throws {
        let f = try Fixture(policy: policy(.whitelist))
        let response = f.announceResponse(peer: 1)
        #expect(response.status == 503)
        #expect(try f.count("SELECT count(*) FROM peers") == 0)
    }

    @Test func batchesReadOneSnapshotAndTheNextBatchSeesChanges() throws {
        let f = try Fixture(policy: policy(.whitelist), withControl: true)
        let control = f.control!
        let operatorsCommand = try SQLiteControlStore(path: f.controlPath, busyTimeoutMilliseconds: 100, durable: true)
        control.beginBatch()
        #expect(try !control.isListed(Fixture.infoHash(7)))
        _ = try operatorsCommand.register(RegisteredTorrent(hashes: [TorrentHash(Fixture.infoHash(7), version: 0)], added: 0))
        #expect(try !control.isListed(Fixture.infoHash(7)), "a batch reads one moment")
        control.finishBatch()
        control.beginBatch()
        #expect(try control.isListed(Fixture.infoHash(7)))
        control.finishBatch()
    }
}
