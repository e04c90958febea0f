/// opentracker-style plausible deniability (chihaya calls it "deniability"): random made-up peers
/// mixed into announce replies, so that being handed an address by this tracker does not prove
/// that its owner took part.
///
/// What it is, plainly: the addresses are random (each IPv4 byte 1–254; IPv6 in 2000::/3), so they
/// may belong to anyone, and clients will try to connect to them. Off unless `decoy-peers` is set.
/// Replies with no real peers get none (an otherwise empty reply would give decoys away), and the
/// reply's `complete` count grows by the number added, so counts and lists stay consistent.
public enum Decoys {
    /// Adds 1…`most` decoys of the announcing peer's address family at random places, replacing
    /// real peers rather than growing past `limit`.
    public static func add(
        most: Int, to outcome: inout AnnounceOutcome, limit: Int, ipv6: Bool, random: inout FastRandom
    ) {
        guard most > 0, limit > 0, !outcome.peers.isEmpty else { return }
        let count = Int.random(in: 1...most, using: &random)
        for _ in 0..<count {
            let decoy = PeerRecord(endpoint: endpoint(ipv6: ipv6, random: &random), peerID: peerID(random: &random))
            let place = Int.random(in: 0...outcome.peers.count, using: &random)
            if outcome.peers.count < limit {
                outcome.peers.insert(decoy, at: place)
            } else {
                outcome.peers[min(place, outcome.peers.count - 1)] = decoy
            }
            outcome.counts.seeders += 1
        }
    }

    private static func endpoint(ipv6: Bool, random: inout FastRandom) -> PeerEndpoint {
        var bytes: [UInt8]
        if ipv6 {
            bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes[0] = 0x20 | (bytes[0] & 0x1f)  // 2000::/3, global unicast
        } else {
            bytes = (0..<4).map { _ in UInt8.random(in: 1...254, using: &random) }
        }
        let port = UInt16.random(in: 1024...65535, using: &random)
        return PeerEndpoint(address: IPAddress(bytes: bytes)!, port: port)
    }

    private static func peerID(random: inout FastRandom) -> PeerID {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return PeerID((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] })!
    }
}
