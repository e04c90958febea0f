import Testing
import TrackerCore

@Suite struct BencodeTests {
    @Test(arguments: [
        (Int64(0), "i0e"), (42, "i42e"), (-7, "i-7e"), (Int64.max, "i9223372036854775807e"),
        (Int64.min, "i-9223372036854775808e"),
    ])
    func integersHaveGoldenBytes(value: Int64, expected: String) {
        var writer = BencodeWriter()
        writer.integer(value)
        #expect(writer.bytes == bytes(expected))
    }

    @Test func stringsAreLengthPrefixedAndBinarySafe() {
        var writer = BencodeWriter()
        writer.string([0, 0xff, 0x3a])
        writer.string("")
        #expect(writer.bytes == [UInt8(ascii: "3"), UInt8(ascii: ":"), 0, 0xff, 0x3a, UInt8(ascii: "0"), UInt8(ascii: ":")])
    }

    @Test func decodesWhatTheWriterWrites() throws {
        var writer = BencodeWriter()
        writer.beginDictionary()
        writer.key("a")
        writer.beginList()
        writer.integer(1)
        writer.string("xy")
        writer.end()
        writer.key("b")
        writer.integer(-3)
        writer.end()
        #expect(writer.bytes == bytes("d1:ali1e2:xye1:bi-3ee"))
        let value = try Bencode.decode(writer.bytes)
        #expect(value == .dictionary([bytes("a"): .list([.integer(1), .bytes(bytes("xy"))]), bytes("b"): .integer(-3)]))
    }

    @Test(arguments: ["i01e", "i-0e", "ie", "d1:bi1e1:ai2ee", "d1:ai1e1:ai2ee", "l", "5:abc", "i1ei2e", "di1ei2ee", "x"])
    func decoderRejectsInvalidInput(input: String) {
        #expect(throws: Bencode.DecodingError.self) { try Bencode.decode(bytes(input)) }
    }
}
