/// Appends BEP 3 bencoding to a byte buffer without building intermediate values.
///
/// Callers write dictionary keys in raw-byte order themselves (BEP 3 requires sorted keys); the
/// response encoders do, and their tests check it against golden bytes and a strict decoder.
public struct BencodeWriter {
    public var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginDictionary() { bytes.append(UInt8(ascii: "d")) }
    public mutating func beginList() { bytes.append(UInt8(ascii: "l")) }
    public mutating func end() { bytes.append(UInt8(ascii: "e")) }

    public mutating func integer(_ value: Int64) {
        bytes.append(UInt8(ascii: "i"))
        appendDecimal(value)
        bytes.append(UInt8(ascii: "e"))
    }

    public mutating func integer(_ value: Int) { integer(Int64(value)) }

    public mutating func string<C: Collection>(_ value: C) where C.Element == UInt8 {
        appendDecimal(Int64(value.count))
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ value: StaticString) {
        value.withUTF8Buffer { string($0) }
    }

    public mutating func string(_ value: String) {
        string(Array(value.utf8))
    }

    /// Writes a dictionary key; identical to a byte string, named for readability at call sites.
    public mutating func key(_ name: StaticString) { string(name) }

    private mutating func appendDecimal(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }
}
