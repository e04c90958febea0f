import Testing
import TrackerCore

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("127.0.0.1", [127, 0, 0, 1], "127.0.0.1"),
        ("::1", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ("::ffff:10.1.2.3", [10, 1, 2, 3], "10.1.2.3"),
        ("[2001:DB8::8:800:200c:417a]", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a],
         "2001:db8::8:800:200c:417a"),
        ("fe80::1%eth0", [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "fe80::1"),
        ("2001:db8:0:0:1:0:0:1", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"),
        ("1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], "1:2:3:4:5:6:7:8"),
        ("1::", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "1::"),
    ] as [(String, [UInt8], String)])
    func parsesAndPrintsCanonically(text: String, expected: [UInt8], canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.bytes == expected)
        #expect(address.description == canonical)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3",
                      "12345::", "g::1", "1:", ":1", "localhost", "1.2.3.-4"])
    func rejectsGarbage(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func endpointIsCompactBytes() {
        let v4 = PeerEndpoint(address: IPAddress("1.2.3.4")!, port: 0x1ae1)
        #expect(v4.bytes == [1, 2, 3, 4, 0x1a, 0xe1])
        #expect(v4.isIPv4 && v4.port == 6881)
        let v6 = PeerEndpoint(address: IPAddress("::1")!, port: 80)
        #expect(v6.bytes.count == 18 && !v6.isIPv4 && v6.address == IPAddress("::1"))
    }
}
