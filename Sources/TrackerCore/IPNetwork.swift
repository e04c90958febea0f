/// An address block in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address when the
/// prefix length is left out. Used for the operator's trusted proxies.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Parses `address[/length]`. Host bits beyond the prefix must be zero (`10.1.2.3/8` is
    /// refused), because such a typo usually means the operator meant a different network.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let isIPv6Text = parts[0].contains(":")
        let maxLength = isIPv6Text ? 128 : 32
        let length: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parts[1].allSatisfy(\.isASCII), (0...maxLength).contains(parsed) else {
                return nil
            }
            // A mapped address (`::ffff:10.0.0.0/104`) became IPv4: drop the 96 mapped bits.
            let isMapped = isIPv6Text && address.isIPv4
            guard !isMapped || parsed >= 96 else { return nil }
            length = isMapped ? parsed - 96 : parsed
        } else {
            length = address.bytes.count * 8
        }
        guard IPNetwork.hostBitsAreZero(address.bytes, prefixLength: length) else { return nil }
        self.address = address
        self.prefixLength = length
    }

    /// Whether `candidate` lies in this block. IPv4 and IPv6 blocks never contain each other's
    /// addresses (mapped addresses are already IPv4 by the time they get here).
    public func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        for (mine, theirs) in zip(address.bytes, candidate.bytes) {
            if remaining <= 0 { return true }
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if mine & mask != theirs & mask { return false }
            remaining -= 8
        }
        return true
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private static func hostBitsAreZero(_ bytes: [UInt8], prefixLength: Int) -> Bool {
        for (index, byte) in bytes.enumerated() {
            let networkBits = min(8, max(0, prefixLength - index * 8))
            let hostMask: UInt8 = networkBits == 8 ? 0 : 0xff >> UInt8(networkBits)
            if byte & hostMask != 0 { return false }
        }
        return true
    }

    /// Loopback, private (RFC 1918, RFC 4193) and link-local blocks: the networks an operator's
    /// own machines and proxies live on.
    public static let local: [IPNetwork] = [
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
        "::1/128", "fc00::/7", "fe80::/10",
    ].map { IPNetwork($0)! }
}
