/// What a private tracker's announce URL carries to say who announces: a per-torrent token the
/// site minted, or a site's existing per-user passkey.
public enum Credential: Equatable, Sendable {
    /// `uid (u32) ‖ kv (u16) ‖ tag (16 bytes)` as 44 lowercase hex characters; `tag` is the first
    /// 16 bytes of HMAC-SHA256(secret, "shoal-announce-v1" ‖ uid ‖ kv ‖ info_hash).
    case token(Token)
    /// 16–64 characters `[A-Za-z0-9]`, looked up in the site's `passkeys`.
    case passkey([UInt8])

    /// Reads a credential; nil when it has neither shape. Forty-four lowercase hex characters are
    /// a token (a site's passkey of that shape is still tried as one when the tag does not verify).
    public init?<C: Collection>(_ text: C) where C.Element == UInt8 {
        guard Self.isCredentialShaped(text) else { return nil }
        if let token = Token(hex: text) {
            self = .token(token)
        } else {
            self = .passkey(Array(text))
        }
    }

    /// 16–64 ASCII letters and digits: the shape both kinds share, and what a path segment must
    /// look like to be taken as one.
    public static func isCredentialShaped<C: Collection>(_ text: C) -> Bool where C.Element == UInt8 {
        let count = text.count
        guard count >= 16, count <= 64 else { return false }
        return text.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
        }
    }

    /// The credential as text, for looking it up as a passkey (never logged).
    public var text: [UInt8] {
        switch self {
        case .token(let token): return token.hex
        case .passkey(let bytes): return bytes
        }
    }
}

/// A per-torrent token's parts.
public struct Token: Equatable, Sendable {
    public var userID: UInt32
    public var keyVersion: UInt16
    /// The 16-byte truncated HMAC.
    public var tag: [UInt8]

    public static let hexLength = 44

    public init(userID: UInt32, keyVersion: UInt16, tag: [UInt8]) {
        self.userID = userID
        self.keyVersion = keyVersion
        self.tag = tag
    }

    /// Decodes 44 lowercase hex characters; nil for anything else.
    public init?<C: Collection>(hex: C) where C.Element == UInt8 {
        guard hex.count == Self.hexLength else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(22)
        var high: UInt8? = nil
        for character in hex {
            let nibble: UInt8
            switch character {
            case 0x30...0x39: nibble = character - 0x30
            case 0x61...0x66: nibble = character - 0x61 + 10
            default: return nil
            }
            if let first = high {
                bytes.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        userID = bytes[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
        keyVersion = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        tag = Array(bytes[6...])
    }

    /// The message the tag signs after the domain label: uid (u32 BE) ‖ kv (u16 BE) ‖ info_hash.
    public func signedFields(_ infoHash: InfoHash) -> [UInt8] {
        Self.signedFields(userID: userID, keyVersion: keyVersion, infoHash: infoHash)
    }

    public static func signedFields(userID: UInt32, keyVersion: UInt16, infoHash: InfoHash) -> [UInt8] {
        header(userID, keyVersion) + infoHash.bytes
    }

    /// The token's 44 hex characters.
    public var hex: [UInt8] { Array(Hex.encode(Self.header(userID, keyVersion) + tag).utf8) }

    private static func header(_ userID: UInt32, _ keyVersion: UInt16) -> [UInt8] {
        [
            UInt8(userID >> 24), UInt8(userID >> 16 & 0xff), UInt8(userID >> 8 & 0xff), UInt8(userID & 0xff),
            UInt8(keyVersion >> 8), UInt8(keyVersion & 0xff),
        ]
    }
}

/// Checks a token's tag for an info_hash. The HMAC needs swift-crypto, which this module does not
/// import: `HMACTokenKeys` (TrackerTokens) is the real one.
public protocol TokenVerifier {
    /// Whether `token` was minted for `infoHash` with the current or the previous secret; compares
    /// in constant time.
    func verifies(_ token: Token, for infoHash: InfoHash) -> Bool
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<a.count { difference |= a[index] ^ b[index] }
    return difference == 0
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.withUnsafeBytes { x in b.withUnsafeBytes { y in constantTimeEquals(x, y) } }
}

/// Compares a path segment with a secret in time that depends only on their lengths.
public func constantTimeEquals(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
    a.withUnsafeBytes { x in b.withUnsafeBytes { y in constantTimeEquals(x, y) } }
}
