/// What a private announce tells the ledger: who, the client's counters, and the event. The
/// session it belongs to is (user, info_hash, peer_id, port), which `PeerAnnounce` carries.
public struct SessionReport: Equatable, Sendable {
    public var user: UInt32
    public var uploaded: Int64
    public var downloaded: Int64
    public var left: Int64
    public var event: AnnounceEvent
    /// Bytes per second, up or down, above which a row is flagged `rate` (0: never).
    public var implausibleRate: Int64

    public init(user: UInt32, uploaded: Int64, downloaded: Int64, left: Int64, event: AnnounceEvent, implausibleRate: Int64) {
        self.user = user
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.left = left
        self.event = event
        self.implausibleRate = implausibleRate
    }
}

/// Why a ledger row deserves a second look: bits of its `flags`, named in the drain's output.
public struct LedgerFlags: OptionSet, Sendable {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// The session's first announce: its counters are the baseline, nothing is credited.
    public static let new = LedgerFlags(rawValue: 1)
    /// A counter went down (a client restart that kept its peer_id): nothing credited, the new
    /// counters are the baseline.
    public static let reset = LedgerFlags(rawValue: 2)
    /// Up or down faster than `implausible-rate`.
    public static let rate = LedgerFlags(rawValue: 4)
    /// More downloaded than the previous `left` allowed.
    public static let overdownload = LedgerFlags(rawValue: 8)
    /// Uploaded while no other peer of the swarm was downloading.
    public static let loneUpload = LedgerFlags(rawValue: 16)
    /// Carries credit held back while the ledger was full.
    public static let deferred = LedgerFlags(rawValue: 32)
    /// A `completed` that was not a snatch: the session had one already, or `left` was not 0.
    public static let repeatCompleted = LedgerFlags(rawValue: 64)

    public static let names: [(LedgerFlags, String)] = [
        (.new, "new"), (.reset, "reset"), (.rate, "rate"), (.overdownload, "overdownload"),
        (.loneUpload, "lone_upload"), (.deferred, "deferred"), (.repeatCompleted, "repeat"),
    ]

    /// Comma-separated names, `-` for none.
    public var text: String {
        let set = Self.names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "-" : set.joined(separator: ",")
    }
}
