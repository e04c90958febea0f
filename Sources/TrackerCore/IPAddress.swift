/// An IPv4 or IPv6 address in network byte order: 4 bytes for IPv4, 16 for IPv6.
///
/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, what a dual-stack socket reports for an IPv4
/// client) are stored as the IPv4 address they stand for, so such a peer lands in `peers`, not
/// `peers6` (BEP 7).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    /// Wraps 4 or 16 raw bytes; a mapped IPv6 address becomes IPv4.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self.bytes = bytes
        case 16:
            let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
            self.bytes = bytes[0..<12].elementsEqual(mappedPrefix) ? Array(bytes[12...]) : bytes
        default: return nil
        }
    }

    /// Parses the textual form a web server puts in `REMOTE_ADDR`: dotted IPv4, or IPv6 with
    /// optional `::` compression, trailing dotted quad, surrounding brackets and `%zone` suffix.
    public init?<C: Collection>(text: C) where C.Element == UInt8 {
        var text = ArraySlice(text)
        if text.first == UInt8(ascii: "["), text.last == UInt8(ascii: "]") {
            text = text.dropFirst().dropLast()
        }
        if let percent = text.firstIndex(of: UInt8(ascii: "%")) { text = text[..<percent] }
        guard let parsed = IPAddress.parseIPv4(text) ?? IPAddress.parseIPv6(text) else { return nil }
        self.init(bytes: parsed)
    }

    public init?(_ text: String) { self.init(text: Array(text.utf8)) }

    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        var value = 0
        var digits = 0
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, out.count < 3 else { return nil }
                out.append(UInt8(value))
                value = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // No leading zeros: "010" is octal to inet_aton and ambiguous, so refuse it.
                if digits == 1, value == 0 { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard value <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, out.count == 3 else { return nil }
        out.append(UInt8(value))
        return out
    }

    static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count <= 45 else { return nil }
        var head: [UInt16] = []  // groups before `::`
        var tail: [UInt16] = []  // groups after `::`
        var sawDoubleColon = false
        var index = text.startIndex
        if text.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawDoubleColon = true
            index += 2
        } else if text.first == UInt8(ascii: ":") {
            return nil
        }
        while index < text.endIndex {
            // A trailing dotted quad stands for the last two groups.
            var end = index
            while end < text.endIndex, text[end] != UInt8(ascii: ":") { end += 1 }
            let group = text[index..<end]
            if end == text.endIndex, group.contains(UInt8(ascii: ".")) {
                guard let quad = parseIPv4(group) else { return nil }
                let groups = [UInt16(quad[0]) << 8 | UInt16(quad[1]), UInt16(quad[2]) << 8 | UInt16(quad[3])]
                if sawDoubleColon { tail += groups } else { head += groups }
                index = end
                break
            }
            guard !group.isEmpty, group.count <= 4 else { return nil }
            var value: UInt16 = 0
            for byte in group {
                guard let nibble = hexValue(byte) else { return nil }
                value = value << 4 | UInt16(nibble)
            }
            if sawDoubleColon { tail.append(value) } else { head.append(value) }
            index = end
            if index < text.endIndex {
                index += 1  // the `:`
                if index < text.endIndex, text[index] == UInt8(ascii: ":") {
                    guard !sawDoubleColon else { return nil }
                    sawDoubleColon = true
                    index += 1
                } else if index == text.endIndex {
                    return nil  // a single trailing colon
                }
            }
        }
        let count = head.count + tail.count
        if sawDoubleColon {
            guard count <= 7 else { return nil }
        } else {
            guard count == 8 else { return nil }
        }
        let groups = head + Array(repeating: 0, count: 8 - count) + tail
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for group in groups {
            out.append(UInt8(group >> 8))
            out.append(UInt8(group & 0xff))
        }
        return out
    }

    /// Dotted quad for IPv4; RFC 5952 canonical text for IPv6 (lowercase, longest zero run as `::`).
    public var description: String {
        if isIPv4 { return bytes.map { String($0) }.joined(separator: ".") }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1
        var bestLength = 1  // a single zero group is not compressed (RFC 5952 4.2.2)
        var runStart = -1
        for (i, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = i }
                if i - runStart + 1 > bestLength {
                    bestStart = runStart
                    bestLength = i - runStart + 1
                }
            } else {
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
