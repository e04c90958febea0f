import Crypto
import TrackerCore

/// The secrets a private tracker checks per-torrent tokens with, and the recipe a site mints them
/// by: `uid ‖ kv ‖ first 16 bytes of HMAC-SHA256(secret, "shoal-announce-v1" ‖ uid ‖ kv ‖ info_hash)`.
///
/// The current and the previous secret are both accepted, so a site can rotate the secret without
/// breaking the torrents its users already downloaded.
public struct HMACTokenKeys: TokenVerifier {
    /// Binds every tag to this scheme, so that an HMAC the site computes with the same secret for
    /// anything else can never pass as a token.
    public static let domain = Array("shoal-announce-v1".utf8)
    private let keys: [SymmetricKey]

    /// - Parameter secrets: the current secret first; empty strings are left out.
    public init(secrets: [String]) {
        keys = secrets.filter { !$0.isEmpty }.map { SymmetricKey(data: Array($0.utf8)) }
    }

    public var isEmpty: Bool { keys.isEmpty }

    public func verifies(_ token: Token, for infoHash: InfoHash) -> Bool {
        let fields = token.signedFields(infoHash)
        var matched = false
        // Every key is tried, so the time taken does not say which one matched.
        for key in keys {
            if constantTimeEquals(Self.tag(key: key, fields: fields), token.tag) { matched = true }
        }
        return matched
    }

    /// The token a site would mint for `userID` at `keyVersion` on `infoHash`, with the current secret.
    public func mint(userID: UInt32, keyVersion: UInt16, infoHash: InfoHash) -> Token? {
        guard let key = keys.first else { return nil }
        let fields = Token.signedFields(userID: userID, keyVersion: keyVersion, infoHash: infoHash)
        return Token(userID: userID, keyVersion: keyVersion, tag: Self.tag(key: key, fields: fields))
    }

    private static func tag(key: SymmetricKey, fields: [UInt8]) -> [UInt8] {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: domain)
        mac.update(data: fields)
        return Array(Array(mac.finalize()).prefix(16))
    }
}
