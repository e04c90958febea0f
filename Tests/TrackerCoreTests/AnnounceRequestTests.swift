import Testing
import TrackerCore

@Suite struct AnnounceRequestTests {
    @Test func parsesBinaryHashesWithNulBytes() throws {
        let request = try AnnounceRequest(query: announceQuery("&uploaded=10&downloaded=20&event=started"))
        #expect(request.infoHash == hashA)
        #expect(request.infoHash.bytes.contains(0))
        #expect(request.peerID == peerA)
        #expect(request.port == 6881)
        #expect(request.uploaded == 10)
        #expect(request.downloaded == 20)
        #expect(request.left == 0)
        #expect(request.event == .started)
        #expect(request.numWant == nil)
        #expect(request.compact)
        #expect(!request.noPeerID)
    }

    @Test func acceptsRawUnreservedBytesAndPlusAsSpace() throws {
        let request = try AnnounceRequest(query: bytes("info_hash=abcdefghij%20bcdefghi+&peer_id=-TR2940-abcdefghijkl&port=1&left=5"))
        #expect(request.infoHash.bytes == bytes("abcdefghij bcdefghi "))
        #expect(request.peerID.bytes == bytes("-TR2940-abcdefghijkl"))
        #expect(request.left == 5)
    }

    @Test func lastRepeatedKeyWinsAndUnknownKeysAreIgnored() throws {
        let request = try AnnounceRequest(
            query: announceQuery("&port=7000&key=abc&trackerid=x&supportcrypto=1&numwant=10&numwant=3&ip=1.2.3.4"))
        #expect(request.port == 7000)
        #expect(request.numWant == 3)
    }

    @Test func readsCompactNoPeerIDAndEveryEvent() throws {
        #expect(try !AnnounceRequest(query: announceQuery("&compact=0")).compact)
        #expect(try AnnounceRequest(query: announceQuery("&compact=1")).compact)
        #expect(try AnnounceRequest(query: announceQuery("&no_peer_id=1")).noPeerID)
        let events: [(String, AnnounceEvent)] = [
            ("", .none), ("started", .started), ("completed", .completed), ("stopped", .stopped), ("paused", .paused),
        ]
        for (raw, event) in events {
            #expect(try AnnounceRequest(query: announceQuery("&event=\(raw)")).event == event)
        }
        #expect(try AnnounceRequest(query: announceQuery("&numwant=0")).numWant == 0)
        #expect(try AnnounceRequest(query: announceQuery("&left=18446744073709551615")).left == UInt64.max)
    }

    static let refusals: [(String, TrackerFailure)] = [
        ("peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0", .missingInfoHash),
        ("info_hash=%01%02&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0", .malformedInfoHash),
        ("info_hash=\(percentEncoded(twentyBytes(1) + [1]))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0", .malformedInfoHash),
        ("info_hash=\(percentEncoded(hashA.bytes))&port=1&left=0", .missingPeerID),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=short&port=1&left=0", .malformedPeerID),
        ("info_hash=%zz&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0", .badPercentEncoding),
        ("info_hash=%0&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0", .badPercentEncoding),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&left=0", .missingPort),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=0&left=0", .invalidPort),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=65536&left=0", .invalidPort),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=-1&left=0", .invalidPort),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=http&left=0", .invalidPort),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1", .missingLeft),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=-5", .invalidNumber("left")),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=18446744073709551616", .invalidNumber("left")),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0&uploaded=x", .invalidNumber("uploaded")),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0&downloaded=-1", .invalidNumber("downloaded")),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0&numwant=-1", .invalidNumber("numwant")),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0&event=finished", .invalidEvent),
        ("info_hash=\(percentEncoded(hashA.bytes))&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0"
            + "&info_hash=\(percentEncoded(twentyBytes(7)))", .ambiguousInfoHash),
        ("info_hash=\(percentEncoded(hashA.bytes))&info_hash=%zz&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0",
            .badPercentEncoding),
    ]

    @Test func theSameInfoHashTwiceIsFineHoweverItIsSpelled() throws {
        let lower = "abcdefghijklmnopqrst"
        let encoded = percentEncoded(Array(lower.utf8))
        let query = "info_hash=\(lower)&peer_id=\(percentEncoded(peerA.bytes))&port=1&left=0&info_hash=\(encoded)&info_hash=\(lower)"
        #expect(try AnnounceRequest(query: bytes(query)).infoHash.bytes == Array(lower.utf8))
    }

    @Test(arguments: refusals)
    func refusesMalformedQueries(query: String, failure: TrackerFailure) {
        #expect(throws: failure) { try AnnounceRequest(query: bytes(query)) }
    }
}
