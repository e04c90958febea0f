import CFastCGI
import TrackerCore

/// One FastCGI connection's protocol state, without I/O: bytes in, replies out.
///
/// A web server that keeps connections open (nginx `fastcgi_keep_conn`) sends request after
/// request on the same connection; libfcgi's accept loop would block on such a connection while
/// others wait. This type lets one process serve many connections from a `poll` loop instead.
/// Requests on one connection are answered in order, one at a time (FCGI_MPXS_CONNS = 0).
public struct FastCGIConnection {
    /// Bytes received and not yet parsed; `start` is where parsing resumes.
    private var input: [UInt8] = []
    private var start = 0
    /// Reply bytes not yet written.
    private(set) var output: [UInt8] = []
    private var outputStart = 0
    /// Set when the connection must be closed once `output` is written: the web server asked for
    /// that (no FCGI_KEEP_CONN), or it broke the protocol.
    private(set) var closesAfterOutput = false
    private var request: PendingRequest?
    /// Where in `output` each reply of the current batch lies, until `settleReplies` (see
    /// `BatchResponder`): a reply must not go out before what it says is stored.
    private var batchReplies: [(range: Range<Int>, id: UInt16)] = []

    private struct PendingRequest {
        let id: UInt16
        let keepsConnection: Bool
        var params: [UInt8] = []
        var paramsComplete = false
        var stdinComplete = false
        var body: [UInt8] = []
        var bodyTooLarge = false
        /// Whether this request's body is kept: only a POST's (the control endpoint's writes);
        /// decided from the parameters when the body starts.
        var keepsBody: Bool?
    }

    /// A request's parameters may not exceed this; nginx sends about 1 KiB.
    static let maxParamsBytes = 64 * 1024

    var hasPendingOutput: Bool { outputStart < output.count }

    /// When bytes last arrived (or the connection was accepted), in `ConnectionLoop`'s clock.
    var lastActivity: UInt64 = 0

    /// Whether part of a request has arrived and the rest has not: such a connection has
    /// `ConnectionLimits.requestMilliseconds` to finish it, an idle one longer.
    var isMidRequest: Bool { request != nil || start < input.count }

    /// Appends received bytes.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        if start == input.count {
            input.removeAll(keepingCapacity: true)
            start = 0
        }
        input.append(contentsOf: bytes)
    }

    /// Parses every complete record and answers every complete request with `handler`.
    mutating func process(handler: (CGIParameters) -> TrackerResponse) {
        let headerLength = Int(FCGI_HEADER_LEN)
        while !closesAfterOutput, input.count - start >= headerLength {
            let type = Int32(input[start + 1])
            let id = UInt16(input[start + 2]) << 8 | UInt16(input[start + 3])
            let contentLength = Int(input[start + 4]) << 8 | Int(input[start + 5])
            let recordLength = headerLength + contentLength + Int(input[start + 6])
            guard input[start] == FCGI_VERSION_1 else { return fail() }
            guard input.count - start >= recordLength else { break }
            let content = start + headerLength..<start + headerLength + contentLength
            start += recordLength
            handleRecord(type: type, id: id, content: content, handler: handler)
        }
        if start == input.count {
            input.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    /// Ends the batch for this connection: its replies stay as they are, or, when what they said
    /// could not be stored, each becomes `failure` instead.
    mutating func settleReplies(replacingWith failure: TrackerResponse?) {
        if let failure {
            // From the last, so that the ranges before it stay where they are.
            for reply in batchReplies.reversed() {
                var replacement: [UInt8] = []
                Self.appendReply(id: reply.id, failure, to: &replacement)
                output.replaceSubrange(reply.range, with: replacement)
            }
        }
        batchReplies.removeAll(keepingCapacity: true)
    }

    /// Marks `count` bytes of `output` as written.
    mutating func wrote(_ count: Int) {
        outputStart += count
        if outputStart == output.count {
            output.removeAll(keepingCapacity: true)
            outputStart = 0
        }
    }

    /// The bytes still to write.
    func withPendingOutput<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        output.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[outputStart...])) }
    }

    private mutating func handleRecord(
        type: Int32, id: UInt16, content: Range<Int>, handler: (CGIParameters) -> TrackerResponse
    ) {
        switch type {
        case FCGI_BEGIN_REQUEST:
            guard content.count >= 8 else { return fail() }
            let role = Int32(input[content.lowerBound]) << 8 | Int32(input[content.lowerBound + 1])
            let keeps = input[content.lowerBound + 2] & UInt8(FCGI_KEEP_CONN) != 0
            if request != nil {
                return Self.appendEnd(id: id, protocolStatus: UInt8(FCGI_CANT_MPX_CONN), to: &output)
            }
            guard role == FCGI_RESPONDER else {
                Self.appendEnd(id: id, protocolStatus: UInt8(FCGI_UNKNOWN_ROLE), to: &output)
                if !keeps { closesAfterOutput = true }
                return
            }
            request = PendingRequest(id: id, keepsConnection: keeps)
        case FCGI_PARAMS:
            guard var pending = request, pending.id == id, !pending.paramsComplete else { return }
            if content.isEmpty {
                pending.paramsComplete = true
            } else {
                guard pending.params.count + content.count <= Self.maxParamsBytes else { return fail() }
                pending.params += input[content]
            }
            request = pending
            answerIfComplete(handler: handler)
        case FCGI_STDIN:
            guard request?.id == id else { return }
            // Only the control endpoint reads a body, and only a POST's: any other body is dropped
            // as it arrives, and a POST's past the limit too. Changed in place (`request?.…`), with
            // no copy of the request held: that would copy the body with every record.
            if request?.keepsBody == nil, !content.isEmpty, let params = request?.params {
                request?.keepsBody = FastCGIParams(params)?.value("REQUEST_METHOD") == Array("POST".utf8)
            }
            if content.isEmpty {
                request?.stdinComplete = true
            } else if request?.keepsBody == true {
                let kept = request?.body.count ?? 0
                if kept + content.count <= CGIParameters.maxBodyBytes, request?.bodyTooLarge == false {
                    request?.body.append(contentsOf: input[content])
                } else {
                    request?.bodyTooLarge = true
                    request?.body = []
                }
            }
            answerIfComplete(handler: handler)
        case FCGI_ABORT_REQUEST:
            guard let pending = request, pending.id == id else { return }
            request = nil
            Self.appendEnd(id: id, protocolStatus: UInt8(FCGI_REQUEST_COMPLETE), to: &output)
            if !pending.keepsConnection { closesAfterOutput = true }
        case FCGI_GET_VALUES:
            // One request per connection, as many connections as the listen backlog allows.
            var pairs: [UInt8] = []
            for (name, value) in [("FCGI_MPXS_CONNS", "0"), ("FCGI_MAX_REQS", "1")] {
                pairs += [UInt8(name.utf8.count), UInt8(value.utf8.count)] + Array(name.utf8) + Array(value.utf8)
            }
            Self.appendRecord(type: FCGI_GET_VALUES_RESULT, id: 0, content: pairs[...], to: &output)
        default:
            if id == FCGI_NULL_REQUEST_ID {
                Self.appendRecord(
                    type: FCGI_UNKNOWN_TYPE, id: 0, content: [UInt8(truncatingIfNeeded: type), 0, 0, 0, 0, 0, 0, 0][...],
                    to: &output)
            }
        }
    }

    private mutating func answerIfComplete(handler: (CGIParameters) -> TrackerResponse) {
        guard let pending = request, pending.paramsComplete, pending.stdinComplete else { return }
        request = nil
        guard let params = FastCGIParams(pending.params) else { return fail() }
        var parameters = CGIParameters(stream: params)
        parameters.body = pending.body
        parameters.bodyTooLarge = pending.bodyTooLarge
        let response = handler(parameters)
        let replyStart = output.count
        Self.appendReply(id: pending.id, response, to: &output)
        batchReplies.append((replyStart..<output.count, pending.id))
        if !pending.keepsConnection { closesAfterOutput = true }
    }

    /// A whole reply: the response as FCGI_STDOUT, the empty FCGI_STDOUT that ends it, and
    /// FCGI_END_REQUEST.
    private static func appendReply(id: UInt16, _ response: TrackerResponse, to output: inout [UInt8]) {
        appendStdout(id: id, response, to: &output)
        appendRecord(type: FCGI_STDOUT, id: id, content: [][...], to: &output)
        appendEnd(id: id, protocolStatus: UInt8(FCGI_REQUEST_COMPLETE), to: &output)
    }

    /// The CGI head and body as FCGI_STDOUT records, written straight into `output`: one record
    /// (a tracker reply is a few KiB), its length filled in afterwards; split only if it is longer
    /// than a record can hold.
    private static func appendStdout(id: UInt16, _ response: TrackerResponse, to output: inout [UInt8]) {
        let headerStart = output.count
        appendRecord(type: FCGI_STDOUT, id: id, content: [][...], to: &output)
        let contentStart = output.count
        ResponseHead.append(response, to: &output)
        output += response.body
        let length = output.count - contentStart
        if length <= Int(FCGI_MAX_LENGTH) {
            output[headerStart + 4] = UInt8(length >> 8)
            output[headerStart + 5] = UInt8(length & 0xff)
            return
        }
        let content = Array(output[contentStart...])
        output.removeSubrange(headerStart...)
        var offset = 0
        while offset < content.count {
            let end = min(content.count, offset + Int(FCGI_MAX_LENGTH))
            appendRecord(type: FCGI_STDOUT, id: id, content: content[offset..<end], to: &output)
            offset = end
        }
    }

    private static func appendEnd(id: UInt16, protocolStatus: UInt8, to output: inout [UInt8]) {
        appendRecord(type: FCGI_END_REQUEST, id: id, content: [0, 0, 0, 0, protocolStatus, 0, 0, 0][...], to: &output)
    }

    private static func appendRecord(type: Int32, id: UInt16, content: ArraySlice<UInt8>, to output: inout [UInt8]) {
        output += [
            UInt8(FCGI_VERSION_1), UInt8(type), UInt8(id >> 8), UInt8(id & 0xff),
            UInt8(content.count >> 8), UInt8(content.count & 0xff), 0, 0,
        ]
        output += content
    }

    /// The peer broke the protocol: drop what it sent and close once our replies are out.
    private mutating func fail() {
        input.removeAll()
        start = 0
        request = nil
        closesAfterOutput = true
    }
}
