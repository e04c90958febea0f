/// Whether a tracker knows who announces: `public` serves anyone, `private` only announces with a
/// credential the site issued (`Credential`), and keeps each user's upload and download in the
/// ledger.
public enum Tracking: String, CaseIterable, Sendable {
    case `public`, `private`
}

/// The site's control state, as private tracking reads it: who is banned, whose keys were reset,
/// which tokens and torrents are gone. `SQLiteControlStore` is the real one; a change the site
/// makes is seen by the next batch of requests.
public protocol SiteState: AnyObject {
    /// The user a passkey belongs to; nil when the site has no such passkey.
    func user(forPasskey passkey: [UInt8]) throws -> UInt32?
    /// What the site says about `user` announcing `infoHash`.
    func standing(of user: UInt32, on infoHash: InfoHash) throws -> SiteStanding
}

/// Everything that can refuse one user's announce of one torrent, read in one go.
public struct SiteStanding: Equatable, Sendable {
    /// Tokens with a lower key version are refused (the user's keys were reset).
    public var keyFloor: UInt16 = 0
    /// The user is banned; the message their client shows.
    public var banned: String?
    /// The user may seed but not download; the message a download gets.
    public var ratioWatch: String?
    /// This user's token for this torrent was revoked.
    public var tokenRevoked = false
    /// The site deleted the torrent, for this reason.
    public var deletedReason: String?

    public init(
        keyFloor: UInt16 = 0, banned: String? = nil, ratioWatch: String? = nil, tokenRevoked: Bool = false,
        deletedReason: String? = nil
    ) {
        self.keyFloor = keyFloor
        self.banned = banned
        self.ratioWatch = ratioWatch
        self.tokenRevoked = tokenRevoked
        self.deletedReason = deletedReason
    }
}
