import Testing
import TrackerCore

/// Private tracking's parsers: credentials, the URL shapes, control paths and the site's TSV.
@Suite struct PrivateTrackingTests {
    static let token = "0000002a00032e9a4fca904bfc97e5f377fbc24f4c07"

    @Test func readsTokensAndPasskeys() throws {
        guard case .token(let token) = Credential(Array(Self.token.utf8)) else {
            Issue.record("not read as a token")
            return
        }
        #expect(token.userID == 42 && token.keyVersion == 3 && token.tag.count == 16)
        #expect(String(decoding: token.hex, as: UTF8.self) == Self.token)
        #expect(Credential(Array("abcdefABCDEF0123".utf8)) == .passkey(Array("abcdefABCDEF0123".utf8)))
        // Upper-case hex is a passkey, not a token (tokens are lowercase).
        if case .token = Credential(Array(Self.token.uppercased().utf8)) { Issue.record("upper case read as a token") }
        for bad in ["short", String(repeating: "a", count: 65), "abcdefghijklmno-", "abcdefghijklmnop/", ""] {
            #expect(Credential(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test(arguments: [
        ("/\(token)/announce", Route.announce, token),
        ("/tracker/\(token)/scrape", .scrape, token),
        ("/announce/\(token)", .announce, token),
        ("/scrape/PassKey0123456789", .scrape, "PassKey0123456789"),
        ("/announce", .announce, nil),
        ("/tracker/announce", .announce, nil),  // "tracker" is too short to be a credential
        ("/announce.php", .announce, nil),
    ] as [(String, Route, String?)])
    func findsTheCredentialInEveryShape(path: String, route: Route, credential: String?) throws {
        let routed = try #require(RoutedPath(path: Array(path.utf8)))
        #expect(routed.route == route)
        #expect(routed.credential.map { String(decoding: $0, as: UTF8.self) } == credential)
    }

    @Test func otherPathsAreNotTrackerRoutes() {
        for path in ["/\(Self.token)", "/stats/\(Self.token)", "/announce/short", "/announce/\(Self.token)/x"] {
            #expect(RoutedPath(path: Array(path.utf8)) == nil, "\(path)")
        }
    }

    @Test func controlPathsNeedTheWholeSecretSegment() {
        let secret = Array("site-control-0123456789".utf8)
        func action(_ path: String) -> ControlAction? { ControlAction(path: Array(path.utf8), secret: secret) }
        #expect(action("/site-control-0123456789/ledger") == .ledger)
        #expect(action("/t/site-control-0123456789/ledger/ack") == .acknowledge)
        #expect(action("/site-control-0123456789/site/banned") == .table(.banned))
        #expect(action("/site-control-0123456789/site/key_floors/add") == .add(.keyFloors))
        #expect(action("/site-control-0123456789/site/passkeys/remove") == .remove(.passkeys))
        #expect(action("/site-control-0123456789/site/nope") == .unknown)
        #expect(action("/site-control-012345678/ledger") == nil)
        #expect(action("/site-control-0123456789x/ledger") == nil)
        #expect(ControlAction(path: Array("/x/ledger".utf8), secret: []) == nil)
    }

    @Test func parsesSiteTablesAllOrNothing() throws {
        let rows = try SiteTable.banned.parse(Array("# a comment\n1\tBanned: cheating\r\n\n4294967295\tbye\n".utf8))
        #expect(rows == [[.integer(1), .text("Banned: cheating")], [.integer(4_294_967_295), .text("bye")]])
        let hash = String(repeating: "ab", count: 20)
        #expect(try SiteTable.deleted.parse(Array("\(hash)\tdupe".utf8)) == [[.bytes(Array(repeating: 0xab, count: 20)), .text("dupe")]])
        #expect(try SiteTable.revoked.parse(Array("7\t\(hash)\n".utf8), keysOnly: true).count == 1)
        #expect(try SiteTable.banned.parse(Array("7\tmessage\n".utf8), keysOnly: true) == [[.integer(7)]])
        let cases: [(SiteTable, String, Int)] = [
            (.banned, "1\tok\n4294967296\ttoo big", 2),
            (.banned, "1", 1),
            (.banned, "1\tbell\u{7}", 1),
            (.keyFloors, "1\t65536", 1),
            (.deleted, "abc\treason", 1),
            (.passkeys, "short\t1", 1),
            (.clients, "-qB\tmaybe", 1),
            (.banned, "1\t" + String(repeating: "x", count: 201), 1),
        ]
        for (table, text, line) in cases {
            #expect(throws: SiteInputError.self, "\(text)") { try table.parse(Array(text.utf8)) }
            do {
                _ = try table.parse(Array(text.utf8))
            } catch {
                #expect(error.line == line)
            }
        }
        #expect(throws: SiteInputError.self) { try SiteTable.banned.parse([0x31, 0x09, 0xff, 0xfe]) }
    }

    @Test func namesLedgerFlags() {
        #expect(LedgerFlags([.new]).text == "new")
        #expect(LedgerFlags([.overdownload, .reset]).text == "reset,overdownload")
        #expect(LedgerFlags().text == "-")
    }
}
