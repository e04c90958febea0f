import Glibc
import Testing
import TrackerCore
import TrackerFastCGI

@Suite struct CGIVariablesTests {
    func request(_ variables: [String: String]) -> TrackerRequest {
        CGIVariables.trackerRequest { variables[$0].map { Array($0.utf8) } }
    }

    @Test func pathComesFromScriptNameAndPathInfo() {
        #expect(request(["SCRIPT_NAME": "/tracker", "PATH_INFO": "/announce"]).path == Array("/tracker/announce".utf8))
        #expect(request(["SCRIPT_NAME": "/announce", "DOCUMENT_URI": "/other"]).path == Array("/announce".utf8))
        #expect(request(["DOCUMENT_URI": "/x/scrape"]).path == Array("/x/scrape".utf8))
        #expect(request(["REQUEST_URI": "/announce?info_hash=1"]).path == Array("/announce".utf8))
    }

    @Test func queryAndAddressArePassedThrough() {
        let r = request(["SCRIPT_NAME": "/announce", "QUERY_STRING": "a=%00", "REMOTE_ADDR": "::1"])
        #expect(r.query == Array("a=%00".utf8))
        #expect(r.remoteAddress == Array("::1".utf8))
        #expect(request(["REMOTE_ADDR": ""]).remoteAddress == nil)
    }

    @Test func forwardedHeaderIsReadOnlyWhenNamed() {
        let variables = ["SCRIPT_NAME": "/announce", "REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"]
        #expect(request(variables).forwardedHeader == nil)
        let named = CGIVariables.trackerRequest(forwardedHeader: "HTTP_X_FORWARDED_FOR") { variables[$0].map { Array($0.utf8) } }
        #expect(named.forwardedHeader == Array("203.0.113.9".utf8))
    }

    @Test func parametersAreReadFromACStringArray() {
        let entries = ["SCRIPT_NAME=/announce", "SHOAL_INTERVAL=600", "QUERY_STRING=a=b", "SHOAL_DATABASE=/x=y.db"]
        var pointers: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        pointers.withUnsafeMutableBufferPointer { buffer in
            let parameters = CGIParameters(envp: buffer.baseAddress)
            #expect(parameters.value("QUERY_STRING") == Array("a=b".utf8))
            #expect(parameters.value("PATH_INFO") == nil)
            let settings = parameters.parameters(prefixed: "SHOAL_")
            #expect(settings.map(\.name) == ["SHOAL_INTERVAL", "SHOAL_DATABASE"])
            #expect(settings.map(\.value) == ["600", "/x=y.db"])
        }
    }

    @Test func responseHasStatusTypeAndLength() {
        let bytes = CGIVariables.responseBytes(TrackerResponse(status: 503, body: Array("d1:ai1ee".utf8)))
        #expect(String(decoding: bytes, as: UTF8.self)
            == "Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\nd1:ai1ee")
    }

    @Test(arguments: [
        ("unix:/run/shoal.sock", ListenAddress.unix(path: "/run/shoal.sock")), ("/tmp/s", .unix(path: "/tmp/s")),
        ("127.0.0.1:9000", .tcp(host: "127.0.0.1", port: 9000)), ("[::1]:9001", .tcp(host: "::1", port: 9001)),
        (":9002", .tcp(host: "0.0.0.0", port: 9002)),
    ])
    func listenAddressesParse(text: String, expected: ListenAddress) {
        #expect(ListenAddress(text) == expected)
    }

    @Test(arguments: [
        "", "unix:", "localhost", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3.4:http", "localhost:9000",
        "example.org:9000", "::1:9000", "[127.0.0.1]:9000", "1.2.3:9000", "[::1]x:9000",
    ])
    func badListenAddressesAreRefused(text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test func secondListenerOnTheSameAddressExplainsTheConflict() throws {
        let unix = "/tmp/shoal-listener-test-\(UInt32.random(in: 0 ... .max)).sock"
        let owner = try Listener.open(.unix(path: unix))
        defer {
            close(owner)
            unlink(unix)
        }
        do {
            _ = try Listener.open(.unix(path: unix))
            Issue.record("a second listener on a live socket must fail")
        } catch {
            #expect(error.description.contains("in use"))
        }
    }
}
