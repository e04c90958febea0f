import Testing
import TrackerCore

@Suite struct PrintableTests {
    @Test func validUTF8StaysAndEverythingElseIsEscaped() {
        #expect(Printable.escaped(Array("Ubuntu 24.04 – ünïcode ✓".utf8)) == "Ubuntu 24.04 – ünïcode ✓")
        #expect(Printable.escaped([0x61, 0x0a, 0x09, 0x5c]) == "a\\x0a\\x09\\x5c")
        // Overlong, surrogate, truncated and C1 control sequences.
        #expect(Printable.escaped([0xc0, 0xaf]) == "\\xc0\\xaf")
        #expect(Printable.escaped([0xed, 0xa0, 0x80]) == "\\xed\\xa0\\x80")
        #expect(Printable.escaped([0xe2, 0x82]) == "\\xe2\\x82")
        #expect(Printable.escaped([0xc2, 0x85]) == "\\xc2\\x85")
    }
}
