import Testing
import TrackerCore
import TrackerStore

@Suite struct TrackerTests {
    @Test func scrapeReportsCountsAndZerosForUnknownHashes() throws {
        let f = try Fixture()
        try f.announce(torrent: 1, peer: 1, left: 0, event: "completed")
        try f.announce(torrent: 1, peer: 2, left: 4)
        try f.announce(torrent: 1, peer: 3, left: 4, event: "paused")  // a BEP 21 partial seed
        let reply = try f.scrape([1, 2])
        guard case .dictionary(let files)? = reply["files"] else { Issue.record("no files"); return }
        #expect(files.count == 2)
        #expect(files[twenty(1, tag: 0xaa)] == .dictionary([
            bytes("complete"): .integer(1), bytes("incomplete"): .integer(2), bytes("downloaded"): .integer(1),
            bytes("downloaders"): .integer(1)]))
        #expect(files[twenty(2, tag: 0xaa)] == .dictionary([
            bytes("complete"): .integer(0), bytes("incomplete"): .integer(0), bytes("downloaded"): .integer(0),
            bytes("downloaders"): .integer(0)]))
        #expect(reply["flags"]?["min_request_interval"]?.integerValue == 900)
    }

    @Test func badRequestsGetFailureReasonsAndTouchNothing() throws {
        let f = try Fixture()
        try f.announce(peer: 1, left: 0)
        let cases: [(String, String, String)] = [
            ("/announce", "", "missing info_hash"),
            ("/announce", "info_hash=abc&peer_id=x&port=1&left=0", "info_hash must be 20 bytes"),
            ("/announce", String(repeating: "a", count: 9000), "query string too long"),
            ("/scrape", "", "full scrape is disabled: pass one or more info_hash"),
            ("/scrape", "info_hash=%GG", "malformed percent-encoding in query string"),
        ]
        for (path, query, reason) in cases {
            let response = f.respond(path: path, query: query)
            #expect(response.status == 200)
            #expect(try Bencode.decode(response.body)["failure reason"]?.stringValue == reason)
        }
        #expect(try f.count("SELECT count(*) FROM peers") == 1)
    }

    @Test func unknownPathIs404AndMissingAddressIsLogged() throws {
        let f = try Fixture()
        #expect(f.respond(path: "/favicon.ico", query: "").status == 404)
        let query = "info_hash=\(percentEncoded(twenty(1)))&peer_id=\(percentEncoded(twenty(1)))&port=1&left=0"
        let response = f.respond(path: "/announce", query: query, remoteAddress: nil)
        #expect(try Bencode.decode(response.body)["failure reason"] != nil)
        #expect(f.logs.count == 1 && f.logs[0].contains("REMOTE_ADDR"))
    }

    @Test func busyDatabaseAnswers503WithRetryInAndRecovers() throws {
        let f = try Fixture(busyTimeoutMilliseconds: 50)
        try f.announce(peer: 1, left: 0)
        let blocker = try Database(path: f.path, busyTimeoutMilliseconds: 0)
        try blocker.execute("BEGIN IMMEDIATE")  // another process holding the write lock
        let query = "info_hash=\(percentEncoded(twenty(1, tag: 0xaa)))&peer_id=\(percentEncoded(twenty(2)))&port=2&left=0"
        for _ in 0..<3 {
            let blocked = f.respond(path: "/announce", query: query)
            #expect(blocked.status == 503)
            let body = try Bencode.decode(blocked.body)
            #expect(body["failure reason"] != nil)
            #expect(body["retry in"]?.integerValue == 1)
        }
        #expect(f.logs.count == 1, "the same cause is logged once: \(f.logs)")
        #expect(f.logs.first?.contains("database is locked") == true)
        try blocker.execute("ROLLBACK")
        let after = f.respond(path: "/announce", query: query)
        #expect(after.status == 200)
        #expect(try Bencode.decode(after.body)["complete"]?.integerValue == 2)
    }
}

@Suite struct ProtocolExtrasTests {
    @Test func warningMessageAndTrackerIDAreSent() throws {
        var policy = Policy()
        policy.warningMessage = "this tracker moves to https://example.org/announce on 1 May"
        policy.trackerID = "shoal-1"
        let f = try Fixture(policy: policy)
        let reply = try f.announce(peer: 1, extra: "&trackerid=shoal-1")
        #expect(reply["warning message"]?.stringValue == policy.warningMessage)
        #expect(reply["tracker id"]?.stringValue == "shoal-1")
        #expect(reply["peers"] != nil)
    }

    @Test func announceProtocolRefusesOlderFormsByName() throws {
        var policy = Policy()
        policy.announceProtocol = .compact
        let f = try Fixture(policy: policy)
        #expect(try f.announce(peer: 1, extra: "&compact=0")["failure reason"]?.stringValue
            == "this tracker requires compact announces (compact=1, BEP 23)")
        #expect(try f.announce(peer: 1)["failure reason"] == nil)
        policy.announceProtocol = .noPeerID
        let g = try Fixture(policy: policy)
        #expect(try g.announce(peer: 1, extra: "&compact=0")["failure reason"]?.stringValue
            == "this tracker requires compact=1 or no_peer_id=1 announces")
        #expect(try g.announce(peer: 1, extra: "&compact=0&no_peer_id=1")["failure reason"] == nil)
        #expect(try f.count("SELECT count(*) FROM peers") == 1, "the refused announce stored nothing")
    }
}

@Suite struct DecoyTests {
    @Test func decoysJoinRepliesWithRealPeersOnlyAndStayWithinNumwant() throws {
        var policy = Policy()
        policy.decoyPeers = 3
        let f = try Fixture(policy: policy)
        let lonely = try f.announce(peer: 1)
        #expect(compactPeers(lonely).isEmpty, "an otherwise empty reply gets none")
        try f.announce(peer: 2)
        let reply = try f.announce(peer: 3, extra: "&numwant=50")
        let peers = compactPeers(reply)
        #expect((3...5).contains(peers.count), "two real peers and 1 to 3 decoys")
        #expect(reply["complete"]?.integerValue == Int64(peers.count - 2), "complete counts the decoys")
        #expect(try f.count("SELECT count(*) FROM peers") == 3, "nothing stored")
        let capped = try f.announce(peer: 4, extra: "&numwant=2")
        #expect(compactPeers(capped).count == 2)
    }
}
