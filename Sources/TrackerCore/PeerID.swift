/// The 20-byte identifier a client picks for itself; kept for non-compact replies.
public struct PeerID: Hashable, Sendable {
    public let bytes: [UInt8]

    /// Nil unless exactly 20 bytes.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }
}
