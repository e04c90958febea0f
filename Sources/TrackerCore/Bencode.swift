/// A decoded bencoded value (BEP 3). The tracker writes with `BencodeWriter`; this type reads,
/// for tests and tools that check what the tracker sent.
public enum Bencode: Equatable, Sendable {
    case integer(Int64)
    case bytes([UInt8])
    case list([Bencode])
    case dictionary([[UInt8]: Bencode])

    /// Why a byte string is not valid bencoding.
    public struct DecodingError: Error, Equatable, Sendable {
        public let offset: Int
        public let problem: String
    }

    /// Decodes exactly one value spanning all of `input`.
    ///
    /// Strict: leading zeros, `-0`, unsorted or duplicate dictionary keys and trailing bytes are errors.
    public static func decode(_ input: [UInt8]) throws(DecodingError) -> Bencode {
        var parser = Parser(input: input)
        let value = try parser.value(depth: 0)
        guard parser.offset == input.count else { throw parser.error("trailing bytes") }
        return value
    }

    /// Decodes like `decode`, and also says where each value of the top-level dictionary lies in
    /// `input`: a .torrent's info_hash is the hash of the `info` value's exact bytes as they appear
    /// in the file, never of a re-encoding.
    public static func decodeWithTopLevelSpans(_ input: [UInt8]) throws(DecodingError) -> (Bencode, [[UInt8]: Range<Int>]) {
        var parser = Parser(input: input)
        let value = try parser.value(depth: 0)
        guard parser.offset == input.count else { throw parser.error("trailing bytes") }
        return (value, parser.topLevelSpans)
    }

    /// The value for `key` if `self` is a dictionary.
    public subscript(key: String) -> Bencode? {
        guard case .dictionary(let entries) = self else { return nil }
        return entries[Array(key.utf8)]
    }

    public var integerValue: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }

    public var bytesValue: [UInt8]? {
        if case .bytes(let b) = self { return b }
        return nil
    }

    public var stringValue: String? { bytesValue.map { String(decoding: $0, as: UTF8.self) } }

    /// Internal so that readers of one known shape (a full scrape) can walk it without building the
    /// whole tree.
    struct Parser {
        let input: [UInt8]
        var offset = 0
        /// Where each value of the outermost dictionary starts and ends.
        var topLevelSpans: [[UInt8]: Range<Int>] = [:]

        func error(_ problem: String) -> DecodingError { DecodingError(offset: offset, problem: problem) }

        mutating func value(depth: Int) throws(DecodingError) -> Bencode {
            guard depth < 64 else { throw error("nesting too deep") }
            guard offset < input.count else { throw error("unexpected end") }
            switch input[offset] {
            case UInt8(ascii: "i"):
                offset += 1
                let n = try number(until: UInt8(ascii: "e"), allowNegative: true)
                return .integer(n)
            case UInt8(ascii: "l"):
                offset += 1
                var items: [Bencode] = []
                while try !atEnd() { items.append(try value(depth: depth + 1)) }
                return .list(items)
            case UInt8(ascii: "d"):
                offset += 1
                var entries: [[UInt8]: Bencode] = [:]
                var previous: [UInt8]? = nil
                while try !atEnd() {
                    let key = try self.key(after: previous)
                    previous = key
                    let start = offset
                    entries[key] = try value(depth: depth + 1)
                    if depth == 0 { topLevelSpans[key] = start..<offset }
                }
                return .dictionary(entries)
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .bytes(try byteString())
            default:
                throw error("unexpected byte \(input[offset])")
            }
        }

        /// Consumes the `e` that closes a list or dictionary, if it is next.
        mutating func atEnd() throws(DecodingError) -> Bool {
            guard offset < input.count else { throw error("unterminated list or dictionary") }
            if input[offset] == UInt8(ascii: "e") {
                offset += 1
                return true
            }
            return false
        }

        mutating func byteString() throws(DecodingError) -> [UInt8] {
            let length = try number(until: UInt8(ascii: ":"), allowNegative: false)
            guard length <= input.count - offset else { throw error("string runs past the end") }
            let start = offset
            offset += Int(length)
            return Array(input[start..<offset])
        }

        mutating func number(until terminator: UInt8, allowNegative: Bool) throws(DecodingError) -> Int64 {
            var negative = false
            if allowNegative, offset < input.count, input[offset] == UInt8(ascii: "-") {
                negative = true
                offset += 1
            }
            let start = offset
            var value: Int64 = 0
            while offset < input.count, input[offset] != terminator {
                let byte = input[offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw error("bad digit") }
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw error("number too large") }
                value = sum
                offset += 1
            }
            guard offset < input.count else { throw error("unterminated number") }
            let digits = offset - start
            guard digits > 0 else { throw error("empty number") }
            guard digits == 1 || input[start] != UInt8(ascii: "0") else { throw error("leading zero") }
            guard !(negative && value == 0) else { throw error("negative zero") }
            offset += 1
            return negative ? -value : value
        }
    }
}
