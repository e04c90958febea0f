/// Bytes as hexadecimal digits, two per byte: info_hashes in commands, dumps, pages and
/// opentracker's `top100` (upper case there). Written byte by byte: a list of a million torrents
/// prints a million.
public enum Hex {
    public static func encode(_ bytes: [UInt8], uppercase: Bool = false) -> String {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension InfoHash {
    /// 40 lowercase hexadecimal digits.
    public var hex: String { Hex.encode(bytes) }
}
