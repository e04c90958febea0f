/// Where a peer listens, in the compact form trackers send: the address bytes followed by the
/// port in network byte order; 6 bytes for IPv4 (BEP 23), 18 for IPv6 (BEP 7).
///
/// This is also the peer's identity within a swarm (with the info_hash), as in opentracker: a
/// client that restarts with a new peer_id replaces its old entry instead of duplicating it.
public struct PeerEndpoint: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(address: IPAddress, port: UInt16) {
        var bytes = address.bytes
        bytes.append(UInt8(port >> 8))
        bytes.append(UInt8(port & 0xff))
        self.bytes = bytes
    }

    /// Wraps stored compact bytes; nil unless 6 or 18 bytes long.
    public init?(compact bytes: [UInt8]) {
        guard bytes.count == 6 || bytes.count == 18 else { return nil }
        self.bytes = bytes
    }

    public var isIPv4: Bool { bytes.count == 6 }

    public var address: IPAddress {
        // Stored endpoints always came from `init(address:port:)` or were checked for length.
        IPAddress(bytes: Array(bytes.dropLast(2)))!
    }

    public var port: UInt16 { UInt16(bytes[bytes.count - 2]) << 8 | UInt16(bytes[bytes.count - 1]) }
}
