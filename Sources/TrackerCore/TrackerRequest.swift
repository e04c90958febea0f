/// What the tracker needs from an HTTP request, as the web server passed it (CGI variables).
public struct TrackerRequest: Equatable, Sendable {
    /// The request path without the query (`/announce`, `/tracker/scrape`).
    public var path: [UInt8]
    /// `QUERY_STRING`, still percent-encoded.
    public var query: [UInt8]
    /// `REMOTE_ADDR` as text; nil when the web server did not set it (a misconfiguration).
    public var remoteAddress: [UInt8]?
    /// The value of the header `ClientAddressPolicy.header` names, if the request had it.
    public var forwardedHeader: [UInt8]?
    /// The `Authorization` header; read only for /stats requests.
    public var authorization: [UInt8]?
    /// `Accept-Encoding` names gzip; read only for full scrapes.
    public var acceptsGzip = false
    /// `REQUEST_METHOD`, set only for the control endpoint (which writes only on POST); nil is GET.
    public var method: [UInt8]?
    /// The request body, up to the responder's limit; only the control endpoint reads it.
    public var body: [UInt8] = []
    /// The body was longer than the limit and was dropped (answered 413 where a body matters).
    public var bodyTooLarge = false

    public init(path: [UInt8], query: [UInt8], remoteAddress: [UInt8]?, forwardedHeader: [UInt8]? = nil) {
        self.path = path
        self.query = query
        self.remoteAddress = remoteAddress
        self.forwardedHeader = forwardedHeader
    }

    public init(path: String, query: String, remoteAddress: String?, forwardedHeader: String? = nil) {
        self.init(
            path: Array(path.utf8), query: Array(query.utf8), remoteAddress: remoteAddress.map { Array($0.utf8) },
            forwardedHeader: forwardedHeader.map { Array($0.utf8) })
    }
}

/// An HTTP status and a body: bencoded `text/plain` for the tracker's replies, other types for
/// statistics, the status page and `.torrent` files.
public struct TrackerResponse: Equatable, Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String
    /// Further header lines, e.g. `("Content-Encoding", "gzip")`.
    public var headers: [Header]

    public struct Header: Equatable, Sendable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, body: [UInt8], contentType: String = "text/plain", headers: [Header] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }
}
