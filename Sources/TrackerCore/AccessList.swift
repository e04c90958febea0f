/// Which torrents a tracker serves (`access`): every one, only the listed ones, or all but them.
public enum AccessMode: String, CaseIterable, Sendable {
    case open, whitelist, blacklist
}

/// The operator's lists, as the responders read them: which torrents are registered, and which
/// clients may announce. `SQLiteControlStore` is the real one; a change an operator makes is seen
/// on the next request, with no restart.
public protocol AccessList: AnyObject {
    /// Whether `infoHash` is on the torrent list (any of a torrent's v1 or v2 hashes is).
    func isListed(_ infoHash: InfoHash) throws -> Bool
    /// The peer_id rules in effect now.
    func clientRules() throws -> ClientRules
}

/// peer_id prefix rules (`-qB`, `-TR4`): a match of any `deny` rule is refused; when there is any
/// `allow` rule, a peer_id must match one of them.
public struct ClientRules: Equatable, Sendable {
    public var allow: [[UInt8]]
    public var deny: [[UInt8]]

    public init(allow: [[UInt8]] = [], deny: [[UInt8]] = []) {
        self.allow = allow
        self.deny = deny
    }

    public var isEmpty: Bool { allow.isEmpty && deny.isEmpty }

    public func admits(_ peerID: PeerID) -> Bool {
        let id = peerID.bytes
        if deny.contains(where: { id.starts(with: $0) }) { return false }
        return allow.isEmpty || allow.contains { id.starts(with: $0) }
    }
}
