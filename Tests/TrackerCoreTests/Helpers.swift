import TrackerCore

/// Percent-encodes every byte, the way careful clients send binary values.
func percentEncoded(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let hex = String(byte, radix: 16, uppercase: true)
        return "%" + (hex.count == 1 ? "0" + hex : hex)
    }.joined()
}

/// A 20-byte value whose bytes are `seed, seed+1, …` (wrapping), so it can contain `%00`.
func twentyBytes(_ seed: UInt8) -> [UInt8] { (0..<20).map { seed &+ UInt8($0) } }

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

let hashA = InfoHash(twentyBytes(0xf0))!  // contains 0x00 after wrapping
let peerA = PeerID(twentyBytes(0x41))!

func announceQuery(_ extra: String = "", infoHash: [UInt8] = hashA.bytes, peerID: [UInt8] = peerA.bytes) -> [UInt8] {
    bytes("info_hash=\(percentEncoded(infoHash))&peer_id=\(percentEncoded(peerID))&port=6881&left=0" + extra)
}
