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
