/// The 20-byte SHA-1 of a torrent's info dictionary, exactly as the client sent it (binary-safe).
public struct InfoHash: Hashable, Sendable {
    public let bytes: [UInt8]

    /// Nil unless exactly 20 bytes.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        self.bytes = bytes
    }

    /// Parses 40 hexadecimal digits (for tools and tests).
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 40, by: 2) {
            guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }
}
