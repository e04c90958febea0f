/// Where a request's client address comes from, when the web server is itself behind proxies.
///
/// By default the address is `REMOTE_ADDR`, as the web server set it (after nginx `real_ip` or
/// Apache `mod_remoteip`, if the operator uses them). With trusted proxies configured, a header
/// from one of them names the client instead; headers from anyone else are ignored.
public struct ClientAddressPolicy: Equatable, Sendable {
    /// Networks whose requests may name the client in `header`.
    public var trustedProxies: [IPNetwork] = []
    /// The header a trusted proxy names the client in.
    public var header: ForwardedHeader = .xForwardedFor
    /// Whether the `ip` announce parameter may replace the address, and then only for clients in
    /// a trusted or local network (a seedbox announcing for a machine behind it).
    public var allowsIPParameter = false

    public init() {}

    /// The client's address: `remote` unless it is a trusted proxy whose header names the client.
    /// A header that is missing or unreadable leaves `remote`: bad input never breaks a request.
    public func clientAddress(remote: IPAddress, headerValue: [UInt8]?) -> IPAddress {
        guard let headerValue, isTrusted(remote) else { return remote }
        switch header {
        case .xRealIP, .cfConnectingIP:
            return IPAddress(hostText: trimmed(headerValue[...])) ?? remote
        case .xForwardedFor:
            return rightmostUntrusted(in: headerValue) ?? remote
        }
    }

    /// The address the peer is stored under: the `ip` parameter when allowed, else `client`.
    public func peerAddress(client: IPAddress, ipParameter: [UInt8]?) -> IPAddress {
        guard allowsIPParameter, let ipParameter, isTrusted(client) || IPNetwork.local.contains(where: { $0.contains(client) })
        else { return client }
        // A DNS name (BEP 3 allows one) is not resolved: a lookup per announce is a denial of service.
        return IPAddress(text: ipParameter) ?? client
    }

    public func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// `X-Forwarded-For: client, proxy1, proxy2`: each proxy appends the address it saw, so only
    /// the entries appended by our trusted proxies are believable. Walking from the right, the
    /// first untrusted entry is the client; anything left of it may be forged. An unreadable entry
    /// before that point makes the whole header unusable. If every entry is trusted, the left-most
    /// is the best we know (as nginx's `real_ip_recursive` does).
    private func rightmostUntrusted(in value: [UInt8]) -> IPAddress? {
        var leftmostTrusted: IPAddress? = nil
        for entry in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).reversed() {
            guard let address = IPAddress(hostText: trimmed(entry)) else { return nil }
            if !isTrusted(address) { return address }
            leftmostTrusted = address
        }
        return leftmostTrusted
    }

    private func trimmed(_ text: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return text[first...last]
    }
}

/// The request headers that proxies use to name the client.
public enum ForwardedHeader: String, CaseIterable, Sendable {
    case xForwardedFor = "x-forwarded-for"
    case xRealIP = "x-real-ip"
    case cfConnectingIP = "cf-connecting-ip"

    /// The CGI variable the web server passes the header in.
    public var cgiVariable: String {
        switch self {
        case .xForwardedFor: "HTTP_X_FORWARDED_FOR"
        case .xRealIP: "HTTP_X_REAL_IP"
        case .cfConnectingIP: "HTTP_CF_CONNECTING_IP"
        }
    }
}

extension IPAddress {
    /// An address as proxies write it in headers: bare, bracketed IPv6, or with a port
    /// (`203.0.113.7:51234`, `[2001:db8::1]:443`), which some load balancers append.
    init?(hostText text: ArraySlice<UInt8>) {
        if let address = IPAddress(text: text) {
            self = address
            return
        }
        guard let colon = text.lastIndex(of: UInt8(ascii: ":")),
            text[(colon + 1)...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        let host = text[..<colon]
        // Without brackets, `a:b` with more colons is IPv6, not host:port.
        let bracketed = host.first == UInt8(ascii: "[") && host.last == UInt8(ascii: "]")
        guard bracketed || !host.contains(UInt8(ascii: ":")), !host.isEmpty, colon + 1 < text.endIndex else { return nil }
        guard let address = IPAddress(text: host) else { return nil }
        self = address
    }
}
