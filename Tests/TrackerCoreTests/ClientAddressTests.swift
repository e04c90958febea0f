import Testing
import TrackerCore

@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
        ("192.0.2.7", "192.0.2.7", true), ("192.0.2.7", "192.0.2.8", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("0.0.0.0/0", "::1", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("::ffff:10.0.0.0/104", "10.1.2.3", true), ("::/0", "10.0.0.1", false),
        ("fe80::/10", "febf::1", true), ("fe80::/10", "fec0::1", false),
    ])
    func containment(network: String, address: String, expected: Bool) throws {
        let block = try #require(IPNetwork(network))
        #expect(block.contains(try #require(IPAddress(address))) == expected)
    }

    @Test(arguments: ["", "10.0.0.0/", "10.0.0.0/33", "10.1.2.3/8", "::1/129", "10.0.0.0/x", "10.0.0.0/-1", "host/8",
                      "::ffff:10.0.0.0/64", "10.0.0.0/8/8"])
    func refusesBadBlocks(text: String) {
        #expect(IPNetwork(text) == nil)
    }
}

@Suite struct ClientAddressPolicyTests {
    let proxy = IPAddress("10.0.0.2")!

    func policy(_ header: ForwardedHeader = .xForwardedFor, trusted: [String] = ["10.0.0.0/8", "fd00::/8"]) -> ClientAddressPolicy {
        var policy = ClientAddressPolicy()
        policy.trustedProxies = trusted.map { IPNetwork($0)! }
        policy.header = header
        return policy
    }

    func resolve(_ policy: ClientAddressPolicy, remote: String, header: String?) -> String {
        policy.clientAddress(remote: IPAddress(remote)!, headerValue: header.map { Array($0.utf8) }).description
    }

    @Test func withoutTrustedProxiesHeadersAreIgnored() {
        #expect(resolve(ClientAddressPolicy(), remote: "10.0.0.2", header: "203.0.113.9") == "10.0.0.2")
    }

    @Test func forgedHeaderFromUntrustedSenderIsIgnored() {
        #expect(resolve(policy(), remote: "198.51.100.1", header: "203.0.113.9") == "198.51.100.1")
    }

    @Test(arguments: [
        ("203.0.113.9", "203.0.113.9"),
        // The client forged the left part; our trusted proxy appended what it really saw.
        ("1.1.1.1, 203.0.113.9", "203.0.113.9"),
        ("6.6.6.6, 203.0.113.9, 10.1.1.1, 10.2.2.2", "203.0.113.9"),
        ("  203.0.113.9 ,10.1.1.1", "203.0.113.9"),
        ("[2001:db8::5]:4711, fd00::1", "2001:db8::5"),
        ("203.0.113.9:51234", "203.0.113.9"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        // Every hop trusted: the left-most is the best known.
        ("10.9.9.9, 10.1.1.1", "10.9.9.9"),
    ])
    func forwardedForChainThroughTrustedProxies(header: String, client: String) {
        #expect(resolve(policy(), remote: "10.0.0.2", header: header) == client)
    }

    @Test(arguments: ["", "unknown", "203.0.113.9, garbage", "203.0.113.9,,10.1.1.1", "999.1.1.1", "1.2.3.4:port",
                      "2001:db8::1:80:", "\u{0}"])
    func malformedHeadersFallBackToRemoteAddr(header: String) {
        #expect(resolve(policy(), remote: "10.0.0.2", header: header) == "10.0.0.2")
    }

    @Test func garbageLeftOfTheClientDoesNotMatter() {
        #expect(resolve(policy(), remote: "10.0.0.2", header: "garbage, 203.0.113.9") == "203.0.113.9")
    }

    @Test func singleAddressHeaders() {
        #expect(resolve(policy(.xRealIP), remote: "10.0.0.2", header: " 2001:db8::7 ") == "2001:db8::7")
        #expect(resolve(policy(.cfConnectingIP), remote: "10.0.0.2", header: "203.0.113.9") == "203.0.113.9")
        #expect(resolve(policy(.cfConnectingIP), remote: "10.0.0.2", header: "203.0.113.9, 1.1.1.1") == "10.0.0.2")
        #expect(resolve(policy(.xRealIP), remote: "10.0.0.2", header: nil) == "10.0.0.2")
    }

    @Test func ipParameterOnlyWhenAllowedAndFromTrustedOrLocalNetworks() {
        var allowing = policy()
        let wanted = Array("192.0.2.44".utf8)
        #expect(allowing.peerAddress(client: IPAddress("192.168.1.5")!, ipParameter: wanted).description == "192.168.1.5")
        allowing.allowsIPParameter = true
        #expect(allowing.peerAddress(client: IPAddress("192.168.1.5")!, ipParameter: wanted).description == "192.0.2.44")
        #expect(allowing.peerAddress(client: IPAddress("10.3.3.3")!, ipParameter: wanted).description == "192.0.2.44")
        #expect(allowing.peerAddress(client: IPAddress("::1")!, ipParameter: wanted).description == "192.0.2.44")
        #expect(allowing.peerAddress(client: IPAddress("203.0.113.9")!, ipParameter: wanted).description == "203.0.113.9")
        let hostname = Array("seedbox.example".utf8)
        #expect(allowing.peerAddress(client: IPAddress("127.0.0.1")!, ipParameter: hostname).description == "127.0.0.1")
    }
}
