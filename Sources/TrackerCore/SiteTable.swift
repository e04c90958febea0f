/// The tables of the site's control state, as the site writes them: each is a list of rows that
/// `shoal site`, the control endpoint and plain SQL replace whole or change row by row.
///
/// Rows travel as tab-separated lines (the drain's format too): easy to write from PHP or a shell,
/// and diffable. A value may not hold a tab or a line break; messages are UTF-8.
public enum SiteTable: String, CaseIterable, Sendable {
    /// user, floor: tokens with a lower key version are refused.
    case keyFloors = "key_floors"
    /// user, message.
    case banned
    /// user, message: may seed, not download.
    case ratioWatch = "ratio_watch"
    /// user, info_hash (hex).
    case revoked
    /// info_hash (hex), reason.
    case deleted
    /// passkey, user.
    case passkeys
    /// peer_id prefix (%XX for any byte), allow or deny.
    case clients

    /// The columns, in the order a line gives them; the first `keyCount` identify a row.
    public var columns: [SiteColumn] {
        switch self {
        case .keyFloors: return [.user, .keyVersion]
        case .banned, .ratioWatch: return [.user, .message]
        case .revoked: return [.user, .infoHash]
        case .deleted: return [.infoHash, .message]
        case .passkeys: return [.passkey, .user]
        case .clients: return [.clientPrefix, .rule]
        }
    }

    public var keyCount: Int { self == .revoked ? 2 : 1 }

    /// Parses TSV lines (`#` comments and blank lines skipped) into rows of `columns`, or of the
    /// key columns only (`keysOnly`, for removals). Throws the first bad line, by number: a
    /// replace is all or nothing.
    public func parse(_ text: [UInt8], keysOnly: Bool = false) throws(SiteInputError) -> [[SiteValue]] {
        let wanted = keysOnly ? Array(columns.prefix(keyCount)) : columns
        var rows: [[SiteValue]] = []
        var number = 0
        for rawLine in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
            // A removal may be given whole rows: the key columns are read, the rest ignored.
            guard fields.count == wanted.count || keysOnly && fields.count == columns.count else {
                throw SiteInputError(line: number, reason: "expected \(wanted.count) tab-separated values (\(wanted.map(\.rawValue).joined(separator: ", "))), got \(fields.count)")
            }
            var row: [SiteValue] = []
            for (column, field) in zip(wanted, fields) {
                guard let value = column.parse(field) else {
                    throw SiteInputError(line: number, reason: "\(column.rawValue): \(column.expectation)")
                }
                row.append(value)
            }
            rows.append(row)
        }
        return rows
    }
}

/// One value of a site table's row.
public enum SiteValue: Equatable, Hashable, Sendable {
    case integer(Int64)
    case text(String)
    case bytes([UInt8])

    /// As a TSV field (bytes as hex, except a peer_id prefix, which `SiteColumn.render` writes).
    public var tsv: String {
        switch self {
        case .integer(let n): return String(n)
        case .text(let text): return text
        case .bytes(let bytes): return Hex.encode(bytes)
        }
    }
}

/// What a column holds and how its text is checked.
public enum SiteColumn: String, Sendable {
    case user, keyVersion = "floor", message, infoHash = "info_hash", passkey, clientPrefix = "prefix", rule

    /// Messages longer than this are refused: clients show one line.
    public static let maxMessageBytes = 200

    var expectation: String {
        switch self {
        case .user: return "a user id, 0 to 4294967295"
        case .keyVersion: return "a key version, 0 to 65535"
        case .message: return "1 to \(Self.maxMessageBytes) bytes of UTF-8 text without control characters"
        case .infoHash: return "40 hexadecimal digits"
        case .passkey: return "16 to 64 characters A-Z, a-z, 0-9"
        case .clientPrefix: return "1 to 20 bytes (%XX for any byte)"
        case .rule: return "allow or deny"
        }
    }

    func parse(_ field: ArraySlice<UInt8>) -> SiteValue? {
        switch self {
        case .user:
            guard let n = parseUnsigned(field), n <= UInt64(UInt32.max) else { return nil }
            return .integer(Int64(n))
        case .keyVersion:
            guard let n = parseUnsigned(field), n <= UInt64(UInt16.max) else { return nil }
            return .integer(Int64(n))
        case .message:
            guard !field.isEmpty, field.count <= Self.maxMessageBytes, !field.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
                return nil
            }
            let text = String(decoding: field, as: UTF8.self)
            // Invalid UTF-8 would come back changed: refuse it rather than store something else.
            guard text.utf8.elementsEqual(field) else { return nil }
            return .text(text)
        case .infoHash:
            return InfoHash(hex: String(decoding: field, as: UTF8.self)).map { .bytes($0.bytes) }
        case .passkey:
            guard Credential.isCredentialShaped(field) else { return nil }
            return .text(String(decoding: field, as: UTF8.self))
        case .clientPrefix:
            guard let bytes = try? percentDecoded(field), (1...20).contains(bytes.count) else { return nil }
            return .bytes(bytes)
        case .rule:
            let text = String(decoding: field, as: UTF8.self)
            return text == "allow" || text == "deny" ? .text(text) : nil
        }
    }

    /// A stored value as a TSV field.
    public func render(_ value: SiteValue) -> String {
        guard self == .clientPrefix, case .bytes(let bytes) = value else { return value.tsv }
        return bytes.map { byte in
            // % and + would be decoded, and a leading # would make the line a comment.
            (0x21...0x7e).contains(byte) && !"%+#".utf8.contains(byte)
                ? String(UnicodeScalar(byte)) : "%" + Hex.encode([byte], uppercase: true)
        }.joined()
    }
}

/// A line of a site table that cannot be read; nothing of the request is applied.
public struct SiteInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}
