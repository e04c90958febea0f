/// The body of a successful announce reply.
public struct AnnounceResponse: Equatable, Sendable {
    public var interval: Int
    public var minInterval: Int
    public var counts: SwarmCounts
    public var peers: [PeerRecord]
    /// BEP 24: the address the tracker saw, so a client can learn its external address.
    public var externalAddress: IPAddress?
    /// BEP 3 `tracker id`, which the client sends back as `trackerid`; nil: not sent.
    public var trackerID: String?
    /// BEP 3 `warning message`: shown by clients, the announce still succeeds.
    public var warningMessage: String?

    public init(interval: Int, minInterval: Int, counts: SwarmCounts, peers: [PeerRecord], externalAddress: IPAddress?) {
        self.interval = interval
        self.minInterval = minInterval
        self.counts = counts
        self.peers = peers
        self.externalAddress = externalAddress
    }

    /// Compact (BEP 23/7): IPv4 peers packed into `peers`, IPv6 into `peers6` (present only when
    /// non-empty). Otherwise a `peers` list of dictionaries with `ip`, `port` and, unless
    /// `noPeerID`, `peer id`, both families together.
    public func encode(compact: Bool, noPeerID: Bool, into out: inout BencodeWriter) {
        // Keys in raw-byte order: complete, downloaded, external ip, incomplete, interval,
        // min interval, peers, peers6, tracker id, warning message.
        out.beginDictionary()
        out.key("complete")
        out.integer(counts.seeders)
        out.key("downloaded")
        out.integer(counts.downloaded)
        if let externalAddress {
            out.key("external ip")
            out.string(externalAddress.bytes)
        }
        out.key("incomplete")
        out.integer(counts.leechers)
        out.key("interval")
        out.integer(interval)
        out.key("min interval")
        out.integer(minInterval)
        out.key("peers")
        if compact {
            let v4Count = peers.reduce(0) { $0 + ($1.endpoint.isIPv4 ? 1 : 0) }
            var packed: [UInt8] = []
            packed.reserveCapacity(v4Count * 6)
            for peer in peers where peer.endpoint.isIPv4 { packed += peer.endpoint.bytes }
            out.string(packed)
            if v4Count < peers.count {
                packed.removeAll(keepingCapacity: true)
                for peer in peers where !peer.endpoint.isIPv4 { packed += peer.endpoint.bytes }
                out.key("peers6")
                out.string(packed)
            }
        } else {
            out.beginList()
            for peer in peers {
                out.beginDictionary()
                out.key("ip")
                out.string(peer.endpoint.address.description)
                if !noPeerID {
                    out.key("peer id")
                    out.string(peer.peerID.bytes)
                }
                out.key("port")
                out.integer(Int(peer.endpoint.port))
                out.end()
            }
            out.end()
        }
        if let trackerID {
            out.key("tracker id")
            out.string(trackerID)
        }
        if let warningMessage {
            out.key("warning message")
            out.string(warningMessage)
        }
        out.end()
    }
}
