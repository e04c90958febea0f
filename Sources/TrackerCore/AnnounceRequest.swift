/// A parsed and validated `/announce` query (BEP 3, 23, 7, 21).
///
/// Repeated keys: the last one wins. Unknown keys (`key`, `trackerid`, `corrupt`, `supportcrypto`, …)
/// are ignored, and so are `ipv4` and `ipv6` (BEP 7 discourages them). `ip` is kept for
/// `ClientAddressPolicy`, which honours it only where the operator allows.
public struct AnnounceRequest: Equatable, Sendable {
    public var infoHash: InfoHash
    public var peerID: PeerID
    public var port: UInt16
    public var uploaded: UInt64
    public var downloaded: UInt64
    public var left: UInt64
    public var event: AnnounceEvent
    /// The client's `numwant`, or nil when absent; `Policy` applies the default and the cap.
    public var numWant: Int?
    /// False only for `compact=0` (BEP 23 says trackers should default to compact).
    public var compact: Bool
    public var noPeerID: Bool
    /// The `ip` parameter, percent-decoded; nil when absent or undecodable.
    public var ipParameter: [UInt8]?

    public init(
        infoHash: InfoHash, peerID: PeerID, port: UInt16, uploaded: UInt64 = 0, downloaded: UInt64 = 0,
        left: UInt64, event: AnnounceEvent = .none, numWant: Int? = nil, compact: Bool = true,
        noPeerID: Bool = false, ipParameter: [UInt8]? = nil
    ) {
        self.infoHash = infoHash
        self.peerID = peerID
        self.port = port
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.numWant = numWant
        self.compact = compact
        self.noPeerID = noPeerID
        self.ipParameter = ipParameter
    }

    /// Parses a raw query string.
    ///
    /// Throws the `TrackerFailure` that names the first problem: a missing or wrong-length
    /// `info_hash`/`peer_id`, two different `info_hash` values, a port outside 1–65535, `left` missing, a number that is not a
    /// non-negative integer within 64 bits, an unknown `event`, or broken percent-encoding.
    /// `uploaded` and `downloaded` default to 0 when absent (the tracker does not use them).
    public init(query: [UInt8]) throws(TrackerFailure) {
        var infoHash: ArraySlice<UInt8>? = nil
        var peerID: ArraySlice<UInt8>? = nil
        var port: ArraySlice<UInt8>? = nil
        var uploaded: ArraySlice<UInt8>? = nil
        var downloaded: ArraySlice<UInt8>? = nil
        var left: ArraySlice<UInt8>? = nil
        var event: ArraySlice<UInt8>? = nil
        var numWant: ArraySlice<UInt8>? = nil
        var compact: ArraySlice<UInt8>? = nil
        var noPeerID: ArraySlice<UInt8>? = nil
        var ip: ArraySlice<UInt8>? = nil
        /// Set when `info_hash` comes again with other bytes: checked after the loop, once
        /// decoding can tell a different torrent from another spelling of the same one.
        var otherInfoHash: ArraySlice<UInt8>? = nil

        for item in QueryString(query) {
            switch item.key.count {
            case 2:
                if item.keyIs("ip") { ip = item.value }
            case 4:
                if item.keyIs("port") { port = item.value } else if item.keyIs("left") { left = item.value }
            case 5:
                if item.keyIs("event") { event = item.value }
            case 7:
                if item.keyIs("peer_id") { peerID = item.value } else if item.keyIs("numwant") { numWant = item.value }
                else if item.keyIs("compact") { compact = item.value }
            case 8:
                if item.keyIs("uploaded") { uploaded = item.value }
            case 9:
                if item.keyIs("info_hash") {
                    if let first = infoHash, !first.elementsEqual(item.value) {
                        otherInfoHash = item.value
                    } else {
                        infoHash = item.value
                    }
                }
            case 10:
                if item.keyIs("downloaded") { downloaded = item.value } else if item.keyIs("no_peer_id") { noPeerID = item.value }
            default:
                break
            }
        }

        guard let infoHash else { throw .missingInfoHash }
        guard let hash = InfoHash(try percentDecoded(infoHash)) else { throw .malformedInfoHash }
        // Two different torrents in one announce: which one did the client mean? (opentracker
        // answers 400.) The same hash spelled twice, even differently encoded, is fine.
        if let otherInfoHash, try percentDecoded(otherInfoHash) != hash.bytes { throw .ambiguousInfoHash }
        guard let peerID else { throw .missingPeerID }
        guard let id = PeerID(try percentDecoded(peerID)) else { throw .malformedPeerID }
        guard let port else { throw .missingPort }
        guard let portNumber = parseUnsigned(port), portNumber >= 1, portNumber <= 65535 else { throw .invalidPort }
        guard let left else { throw .missingLeft }
        guard let leftBytes = parseUnsigned(left) else { throw .invalidNumber("left") }

        self.infoHash = hash
        self.peerID = id
        self.port = UInt16(portNumber)
        self.left = leftBytes
        self.uploaded = try AnnounceRequest.optionalNumber(uploaded, named: "uploaded") ?? 0
        self.downloaded = try AnnounceRequest.optionalNumber(downloaded, named: "downloaded") ?? 0
        if let numWant {
            guard let n = parseUnsigned(numWant) else { throw .invalidNumber("numwant") }
            self.numWant = Int(min(n, UInt64(Int32.max)))
        } else {
            self.numWant = nil
        }
        if let event {
            guard let parsed = AnnounceEvent(event) else { throw .invalidEvent }
            self.event = parsed
        } else {
            self.event = .none
        }
        self.compact = !(compact.map { $0.elementsEqual([UInt8(ascii: "0")]) } ?? false)
        self.noPeerID = noPeerID.map { !$0.isEmpty && !$0.elementsEqual([UInt8(ascii: "0")]) } ?? false
        // Ignored unless allowed, so a broken value is dropped rather than refused.
        self.ipParameter = ip.flatMap { try? percentDecoded($0) }
    }

    private static func optionalNumber(_ raw: ArraySlice<UInt8>?, named name: String) throws(TrackerFailure) -> UInt64? {
        guard let raw else { return nil }
        guard let value = parseUnsigned(raw) else { throw .invalidNumber(name) }
        return value
    }
}
