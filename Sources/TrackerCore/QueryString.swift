/// The raw `key=value` pairs of a URL query string, split on `&` and not yet percent-decoded.
///
/// Binary-safe: decoding happens per value, so `%00` is a byte like any other.
public struct QueryString: Sequence {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public struct Item {
        public let key: ArraySlice<UInt8>
        public let value: ArraySlice<UInt8>

        /// Whether the (undecoded) key is `name`. Keys the tracker reads are plain ASCII; a client
        /// that percent-encodes a key is not one we need to understand.
        @inlinable
        public func keyIs(_ name: StaticString) -> Bool {
            guard key.count == name.utf8CodeUnitCount else { return false }
            return name.withUTF8Buffer { key.elementsEqual($0) }
        }
    }

    public struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        var position: Int

        public mutating func next() -> Item? {
            while position < bytes.count {
                let start = position
                var equals: Int? = nil
                while position < bytes.count, bytes[position] != UInt8(ascii: "&") {
                    if equals == nil, bytes[position] == UInt8(ascii: "=") { equals = position }
                    position += 1
                }
                let end = position
                position += 1  // skip the `&`
                if start == end { continue }  // `&&` or a trailing `&`
                if let equals {
                    return Item(key: bytes[start..<equals], value: bytes[(equals + 1)..<end])
                }
                return Item(key: bytes[start..<end], value: bytes[end..<end])
            }
            return nil
        }
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes, position: 0) }
}

/// Decodes `%XX` escapes and `+` (form encoding for a space, as opentracker and PHP read it).
public func percentDecoded(_ encoded: ArraySlice<UInt8>) throws(TrackerFailure) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(encoded.count)
    var index = encoded.startIndex
    while index < encoded.endIndex {
        let byte = encoded[index]
        switch byte {
        case UInt8(ascii: "%"):
            guard encoded.endIndex - index >= 3,
                let high = hexValue(encoded[index + 1]), let low = hexValue(encoded[index + 2])
            else { throw .badPercentEncoding }
            out.append(high << 4 | low)
            index += 3
        case UInt8(ascii: "+"):
            out.append(UInt8(ascii: " "))
            index += 1
        default:
            out.append(byte)
            index += 1
        }
    }
    return out
}

@inline(__always)
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Parses an unsigned decimal number (no sign, no spaces) that fits in `UInt64`.
public func parseUnsigned(_ digits: ArraySlice<UInt8>) -> UInt64? {
    guard !digits.isEmpty, digits.count <= 20 else { return nil }
    var value: UInt64 = 0
    for byte in digits {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return value
}
