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
    /// One HMAC per secret with the key and the domain label already absorbed: a check copies
    /// one (its SHA-256 states are copied on write) instead of hashing the key's pads again,
    /// which halved the instructions a token check takes.
    private let prepared: [HMAC<SHA256>]

    /// - Parameter secrets: the current secret first; empty strings are left out.
    public init(secrets: [String]) {
        prepared = secrets.filter { !$0.isEmpty }.map { secret in
            var mac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
            mac.update(data: Self.domain)
            return mac
        }
    }

    public var isEmpty: Bool { prepared.isEmpty }

    public func verifies(_ token: Token, for infoHash: InfoHash) -> Bool {
        let fields = token.signedFields(infoHash)
        var matched = false
        // Every secret is tried, so the time taken does not say which one matched.
        for start in prepared {
            var mac = start
            mac.update(data: fields)
            let code = mac.finalize()
            let equal = code.withUnsafeBytes { full in
                token.tag.withUnsafeBytes { constantTimeEquals(UnsafeRawBufferPointer(rebasing: full.prefix(16)), $0) }
            }
            if equal { matched = true }
        }
        return matched
    }

    /// The token a site would mint for `userID` at `keyVersion` on `infoHash`, with the current secret.
    public func mint(userID: UInt32, keyVersion: UInt16, infoHash: InfoHash) -> Token? {
        guard var mac = prepared.first else { return nil }
        mac.update(data: Token.signedFields(userID: userID, keyVersion: keyVersion, infoHash: infoHash))
        return Token(userID: userID, keyVersion: keyVersion, tag: Array(Array(mac.finalize()).prefix(16)))
    }
}
