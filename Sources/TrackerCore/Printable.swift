/// Bytes from the outside world (a torrent's name, a peer_id prefix) as one line of readable text.
public enum Printable {
    /// Valid UTF-8 as is; every byte of an invalid sequence, every control character and the
    /// backslash itself as `\xNN`, so that a hostile name can neither break a line of output nor
    /// pass for another, and the original bytes can be told from the text.
    public static func escaped(_ bytes: [UInt8]) -> String {
        var out = ""
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            if length > 0 {
                let scalarBytes = bytes[index..<index + length]
                let character = String(decoding: scalarBytes, as: UTF8.self)
                let isControl = length == 1 && (bytes[index] < 0x20 || bytes[index] == 0x7f)
                let isC1Control = length == 2 && bytes[index] == 0xc2 && bytes[index + 1] < 0xa0
                if isControl || isC1Control || bytes[index] == UInt8(ascii: "\\") {
                    for byte in scalarBytes { out += hex(byte) }
                } else {
                    out += character
                }
                index += length
            } else {
                out += hex(bytes[index])
                index += 1
            }
        }
        return out
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }

    /// The length of the well-formed UTF-8 sequence at `index` (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF), or 0.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let first = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xbf
        switch first {
        case 0x00...0x7f: return 1
        case 0xc2...0xdf: length = 2
        case 0xe0: length = 3; low = 0xa0
        case 0xe1...0xec, 0xee...0xef: length = 3
        case 0xed: length = 3; high = 0x9f
        case 0xf0: length = 4; low = 0x90
        case 0xf1...0xf3: length = 4
        case 0xf4: length = 4; high = 0x8f
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            let (min, max) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xbf))
            guard byte >= min, byte <= max else { return 0 }
        }
        return length
    }
}
