import Testing
import TrackerCore

@Suite struct ResponseEncodingTests {
    let v4 = PeerRecord(endpoint: PeerEndpoint(address: IPAddress("10.0.0.1")!, port: 6881), peerID: PeerID(bytes("-XX0001-aaaaaaaaaaaa"))!)
    let v6 = PeerRecord(endpoint: PeerEndpoint(address: IPAddress("2001:db8::1")!, port: 80), peerID: PeerID(bytes("-XX0001-bbbbbbbbbbbb"))!)

    func encoded(_ response: AnnounceResponse, compact: Bool, noPeerID: Bool = false) -> [UInt8] {
        var writer = BencodeWriter()
        response.encode(compact: compact, noPeerID: noPeerID, into: &writer)
        return writer.bytes
    }

    @Test func compactReplySplitsFamiliesIntoPeersAndPeers6() throws {
        let response = AnnounceResponse(
            interval: 1800, minInterval: 900, counts: SwarmCounts(seeders: 2, leechers: 3, downloaded: 4),
            peers: [v4, v6], externalAddress: IPAddress("127.0.0.1"))
        let expected: [UInt8] = bytes("d8:completei2e10:downloadedi4e11:external ip4:") + [127, 0, 0, 1]
            + bytes("10:incompletei3e8:intervali1800e12:min intervali900e5:peers6:") + [10, 0, 0, 1, 0x1a, 0xe1]
            + bytes("6:peers618:") + [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1, 0, 80] + bytes("e")
        #expect(encoded(response, compact: true) == expected)
        _ = try Bencode.decode(expected)  // keys sorted, well formed
    }

    @Test func compactReplyWithoutPeersHasEmptyPeersAndNoPeers6() {
        let response = AnnounceResponse(interval: 60, minInterval: 30, counts: SwarmCounts(), peers: [], externalAddress: nil)
        #expect(encoded(response, compact: true)
            == bytes("d8:completei0e10:downloadedi0e10:incompletei0e8:intervali60e12:min intervali30e5:peers0:e"))
    }

    @Test func dictionaryReplyListsBothFamiliesWithOptionalPeerID() throws {
        let response = AnnounceResponse(interval: 60, minInterval: 30, counts: SwarmCounts(), peers: [v4, v6], externalAddress: nil)
        let full = try Bencode.decode(encoded(response, compact: false))
        guard case .list(let peers)? = full["peers"] else { Issue.record("peers is not a list"); return }
        #expect(peers.count == 2)
        #expect(peers[0]["ip"]?.stringValue == "10.0.0.1")
        #expect(peers[0]["port"]?.integerValue == 6881)
        #expect(peers[0]["peer id"]?.stringValue == "-XX0001-aaaaaaaaaaaa")
        #expect(peers[1]["ip"]?.stringValue == "2001:db8::1")
        #expect(full["peers6"] == nil)

        let bare = try Bencode.decode(encoded(response, compact: false, noPeerID: true))
        guard case .list(let barePeers)? = bare["peers"] else { Issue.record("peers is not a list"); return }
        #expect(barePeers.allSatisfy { $0["peer id"] == nil && $0["ip"] != nil })
    }

    @Test func scrapeFilesAreSortedByRawHash() {
        let low = InfoHash(Array(repeating: 1, count: 20))!
        let high = InfoHash(Array(repeating: 0xee, count: 20))!
        let response = ScrapeResponse(
            files: [(high, SwarmCounts(seeders: 1, leechers: 2, downloaded: 3, partialSeeds: 1)), (low, SwarmCounts())],
            minRequestInterval: 900)
        var writer = BencodeWriter()
        response.encode(into: &writer)
        let expected = bytes("d5:filesd20:") + low.bytes
            + bytes("d8:completei0e10:downloadedi0e11:downloadersi0e10:incompletei0ee20:") + high.bytes
            + bytes("d8:completei1e10:downloadedi3e11:downloadersi1e10:incompletei2eee5:flagsd20:min_request_intervali900eee")
        #expect(writer.bytes == expected)
    }
}
