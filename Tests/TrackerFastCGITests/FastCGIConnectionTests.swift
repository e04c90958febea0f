import Testing
import TrackerCore

@testable import TrackerFastCGI

/// Builds FastCGI records the way a web server sends them.
struct RecordWriter {
    var bytes: [UInt8] = []

    mutating func record(_ type: UInt8, id: UInt16 = 1, _ content: [UInt8] = [], padding: Int = 0) {
        bytes += [1, type, UInt8(id >> 8), UInt8(id & 0xff), UInt8(content.count >> 8), UInt8(content.count & 0xff),
                  UInt8(padding), 0]
        bytes += content + [UInt8](repeating: 0, count: padding)
    }

    mutating func begin(id: UInt16 = 1, keep: Bool, role: UInt8 = 1) {
        record(1, id: id, [0, role, keep ? 1 : 0, 0, 0, 0, 0, 0])
    }

    mutating func params(id: UInt16 = 1, _ pairs: [(String, String)]) {
        var content: [UInt8] = []
        for (name, value) in pairs {
            for length in [name.utf8.count, value.utf8.count] {
                content += length < 128 ? [UInt8(length)]
                    : [UInt8(length >> 24 | 0x80), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
            }
            content += Array(name.utf8) + Array(value.utf8)
        }
        record(4, id: id, content, padding: 3)
        record(4, id: id)
    }

    mutating func request(id: UInt16 = 1, keep: Bool, _ pairs: [(String, String)]) {
        begin(id: id, keep: keep)
        params(id: id, pairs)
        record(5, id: id)
    }
}

/// Splits the connection's output into (type, id, content) records.
func records(_ bytes: [UInt8]) -> [(type: UInt8, id: UInt16, content: [UInt8])] {
    var out: [(UInt8, UInt16, [UInt8])] = []
    var index = 0
    while index + 8 <= bytes.count {
        let length = Int(bytes[index + 4]) << 8 | Int(bytes[index + 5])
        out.append((bytes[index + 1], UInt16(bytes[index + 2]) << 8 | UInt16(bytes[index + 3]),
                    Array(bytes[index + 8..<index + 8 + length])))
        index += 8 + length + Int(bytes[index + 6])
    }
    return out
}

@Suite struct FastCGIConnectionTests {
    func feed(_ connection: inout FastCGIConnection, _ bytes: [UInt8], seen: inout [String]) {
        bytes.withUnsafeBytes { connection.receive($0) }
        connection.process { parameters in
            let query = String(decoding: parameters.value("QUERY_STRING") ?? [], as: UTF8.self)
            seen.append(query)
            return TrackerResponse(status: 200, body: Array("d1:q\(query.utf8.count):\(query)e".utf8))
        }
    }

    func drain(_ connection: inout FastCGIConnection) -> [UInt8] {
        let bytes = connection.withPendingOutput { Array($0) }
        connection.wrote(bytes.count)
        return bytes
    }

    @Test func answersRequestsOnAKeptConnectionOneAfterAnother() {
        var connection = FastCGIConnection()
        var seen: [String] = []
        for n in 1...3 {
            var writer = RecordWriter()
            writer.request(id: UInt16(n), keep: true, [("SCRIPT_NAME", "/announce"), ("QUERY_STRING", "n=\(n)")])
            feed(&connection, writer.bytes, seen: &seen)
            let reply = records(drain(&connection))
            #expect(reply.map(\.type) == [6, 6, 3])
            #expect(reply.allSatisfy { $0.id == UInt16(n) })
            let stdout = String(decoding: reply[0].content, as: UTF8.self)
            #expect(stdout.hasPrefix("Status: 200 OK\r\n") && stdout.hasSuffix("\r\n\r\nd1:q3:n=\(n)e"))
            #expect(reply[2].content == [0, 0, 0, 0, 0, 0, 0, 0])
            #expect(!connection.closesAfterOutput)
        }
        #expect(seen == ["n=1", "n=2", "n=3"])
    }

    @Test func recordsSplitAcrossReadsAreReassembled() {
        var writer = RecordWriter()
        writer.request(keep: false, [("QUERY_STRING", String(repeating: "x", count: 300)), ("REMOTE_ADDR", "::1")])
        var connection = FastCGIConnection()
        var seen: [String] = []
        for byte in writer.bytes { feed(&connection, [byte], seen: &seen) }
        #expect(seen == [String(repeating: "x", count: 300)])
        #expect(records(drain(&connection)).map(\.type) == [6, 6, 3])
        #expect(connection.closesAfterOutput)
    }

    @Test func secondRequestWhileOneIsOpenIsRefused() {
        var writer = RecordWriter()
        writer.begin(id: 1, keep: true)
        writer.begin(id: 2, keep: true)
        var connection = FastCGIConnection()
        var seen: [String] = []
        feed(&connection, writer.bytes, seen: &seen)
        let reply = records(drain(&connection))
        #expect(reply.count == 1 && reply[0].type == 3 && reply[0].id == 2 && reply[0].content[4] == 1)
    }

    @Test func otherRolesAndUnknownRecordsGetProtocolAnswers() {
        var writer = RecordWriter()
        writer.begin(id: 1, keep: true, role: 2)
        writer.record(9, id: 0, [14, 0] + Array("FCGI_MPXS_CONNS".utf8))
        writer.record(42, id: 0)
        var connection = FastCGIConnection()
        var seen: [String] = []
        feed(&connection, writer.bytes, seen: &seen)
        let reply = records(drain(&connection))
        #expect(reply.map(\.type) == [3, 10, 11])
        #expect(reply[0].content[4] == 3)  // FCGI_UNKNOWN_ROLE
        #expect(reply[2].content[0] == 42)
        #expect(seen.isEmpty)
    }

    @Test func brokenStreamsCloseTheConnection() {
        var connection = FastCGIConnection()
        var seen: [String] = []
        feed(&connection, [9, 9, 9, 9, 9, 9, 9, 9], seen: &seen)  // not version 1
        #expect(connection.closesAfterOutput)

        var writer = RecordWriter()
        writer.begin(keep: true)
        writer.record(4, [200, 1, 65])  // a name length that runs past the end
        writer.record(4)
        writer.record(5)
        var other = FastCGIConnection()
        feed(&other, writer.bytes, seen: &seen)
        #expect(other.closesAfterOutput && seen.isEmpty)
    }

    @Test func longParameterLengthsAndAbort() {
        var writer = RecordWriter()
        writer.request(keep: true, [("QUERY_STRING", String(repeating: "q", count: 1000))])
        writer.begin(id: 2, keep: true)
        writer.record(2, id: 2)  // FCGI_ABORT_REQUEST
        var connection = FastCGIConnection()
        var seen: [String] = []
        feed(&connection, writer.bytes, seen: &seen)
        #expect(seen.first?.count == 1000)
        #expect(records(drain(&connection)).map(\.type) == [6, 6, 3, 3])
        #expect(!connection.closesAfterOutput)
    }
}

/// A worker answers a batch of requests and writes the replies only once the batch is stored.
@Suite struct FastCGIBatchReplyTests {
    let failure = TrackerResponse(status: 503, body: Array("d14:failure reason4:busye".utf8))

    func feed(_ connection: inout FastCGIConnection, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { connection.receive($0) }
        connection.process { parameters in
            let query = String(decoding: parameters.value("QUERY_STRING") ?? [], as: UTF8.self)
            return TrackerResponse(status: 200, body: Array("d1:q\(query.utf8.count):\(query)e".utf8))
        }
    }

    func stdout(_ record: (type: UInt8, id: UInt16, content: [UInt8])) -> String {
        String(decoding: record.content, as: UTF8.self)
    }

    @Test func aBatchThatWasNotStoredGetsTheFailureInsteadOfEachReply() {
        var writer = RecordWriter()
        writer.request(id: 1, keep: true, [("QUERY_STRING", "a")])
        writer.begin(id: 2, keep: true)
        writer.record(2, id: 2)  // aborted: its FCGI_END_REQUEST is not a reply, and stays
        writer.request(id: 3, keep: true, [("QUERY_STRING", "b")])
        var connection = FastCGIConnection()
        feed(&connection, writer.bytes)
        connection.settleReplies(replacingWith: failure)
        let reply = records(connection.withPendingOutput { Array($0) })
        #expect(reply.map(\.type) == [6, 6, 3, 3, 6, 6, 3])
        #expect(reply.map(\.id) == [1, 1, 1, 2, 3, 3, 3])
        for record in [reply[0], reply[4]] {
            #expect(stdout(record).hasPrefix("Status: 503 "))
            #expect(stdout(record).hasSuffix("\r\n\r\nd14:failure reason4:busye"))
        }
    }

    @Test func aStoredBatchKeepsItsRepliesAndTheNextBatchIsSettledOnItsOwn() {
        var connection = FastCGIConnection()
        for (id, query) in [(UInt16(1), "kept"), (2, "lost")] {
            var writer = RecordWriter()
            writer.request(id: id, keep: true, [("QUERY_STRING", query)])
            feed(&connection, writer.bytes)
            connection.settleReplies(replacingWith: query == "kept" ? nil : failure)
        }
        let reply = records(connection.withPendingOutput { Array($0) })
        #expect(reply.map(\.type) == [6, 6, 3, 6, 6, 3])
        #expect(stdout(reply[0]).hasPrefix("Status: 200 ") && stdout(reply[0]).hasSuffix("d1:q4:kepte"))
        #expect(stdout(reply[3]).hasPrefix("Status: 503 "))
    }
}

@Suite struct FastCGILargeReplyTests {
    @Test func repliesLongerThanARecordAreSplit() {
        var writer = RecordWriter()
        writer.request(keep: true, [("QUERY_STRING", "big")])
        var connection = FastCGIConnection()
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 70_000)
        writer.bytes.withUnsafeBytes { connection.receive($0) }
        connection.process { _ in TrackerResponse(status: 200, body: body) }
        let bytes = connection.withPendingOutput { Array($0) }
        let reply = records(bytes)
        #expect(reply.map(\.type) == [6, 6, 6, 3])
        #expect(reply[0].content.count == 65535)
        let stdout = reply[0].content + reply[1].content
        #expect(stdout.suffix(70_000) == body[...])
        #expect(String(decoding: stdout.prefix(15), as: UTF8.self) == "Status: 200 OK\r")
    }
}

/// Request bodies: kept for a POST (the control endpoint's writes), dropped for anything else.
@Suite struct FastCGIBodyTests {
    func bodies(_ method: String, _ chunks: [[UInt8]]) -> [(body: [UInt8], tooLarge: Bool)] {
        var writer = RecordWriter()
        writer.begin(keep: false)
        writer.params([("REQUEST_METHOD", method), ("SCRIPT_NAME", "/secret/site/banned")])
        for chunk in chunks { writer.record(5, chunk) }
        writer.record(5)
        var connection = FastCGIConnection()
        var seen: [(body: [UInt8], tooLarge: Bool)] = []
        // Fed in 1,000-byte reads, so records arrive in pieces as from a socket.
        var offset = 0
        while offset < writer.bytes.count {
            let piece = Array(writer.bytes[offset..<min(offset + 1000, writer.bytes.count)])
            piece.withUnsafeBytes { connection.receive($0) }
            connection.process { parameters in
                seen.append((parameters.body, parameters.bodyTooLarge))
                return TrackerResponse(status: 200, body: [])
            }
            offset += piece.count
        }
        return seen
    }

    @Test func aPostBodyArrivesWholeAcrossRecords() {
        let chunks = (0..<5).map { n in [UInt8](repeating: UInt8(n), count: 30_000) }
        let seen = bodies("POST", chunks)
        #expect(seen.count == 1)
        #expect(seen.first?.body == chunks.flatMap { $0 })
        #expect(seen.first?.tooLarge == false)
    }

    @Test func otherMethodsBodiesAreDropped() {
        let seen = bodies("GET", [[1, 2, 3]])
        #expect(seen.count == 1 && seen[0].body.isEmpty && !seen[0].tooLarge)
    }

    @Test func aBodyPastTheLimitIsDroppedAndSaidToBe() {
        let chunk = [UInt8](repeating: 7, count: 65_000)
        let seen = bodies("POST", Array(repeating: chunk, count: CGIParameters.maxBodyBytes / 65_000 + 1))
        #expect(seen.count == 1 && seen[0].body.isEmpty && seen[0].tooLarge)
    }
}
