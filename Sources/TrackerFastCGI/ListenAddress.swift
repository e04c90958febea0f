import Glibc

/// Where `shoal serve` listens: a Unix socket path or a TCP host and port.
public enum ListenAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// Accepts `unix:/path`, `/path`, `host:port`, `[ipv6]:port` and `:port` (all IPv4 interfaces).
    public init?(_ text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            self = .unix(path: path)
            return
        }
        if text.hasPrefix("/") {
            self = .unix(path: text)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
        else { return nil }
        var host = String(text[..<colon])
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
        if bracketed { host = String(host.dropFirst().dropLast()) }
        // Only numeric addresses: `serve` binds without name lookups, so `localhost:9000` must be
        // refused here, where `check-config` sees it too, and not only when binding.
        if host.isEmpty {
            host = "0.0.0.0"
        } else if !(bracketed ? Self.isIPv6(host) : Self.isIPv4(host)) {
            return nil
        }
        self = .tcp(host: host, port: port)
    }

    private static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    private static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    public var description: String {
        switch self {
        case .unix(let path): return "unix:\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}

/// Why a listening socket could not be opened, phrased for the operator.
public struct ListenError: Error, CustomStringConvertible {
    public let description: String
}

/// Opens listening sockets for the FastCGI responder.
public enum Listener {
    /// Binds and listens on `address`. A Unix socket file left behind by a process that is gone
    /// is replaced; one that still answers is "in use". `unixMode` sets the socket file's
    /// permissions and `unixGroup` its group, so that the web server can connect and nobody else.
    public static func open(
        _ address: ListenAddress, unixMode: mode_t = 0o660, unixGroup: gid_t? = nil, backlog: Int32 = 1024
    ) throws(ListenError) -> Int32 {
        switch address {
        case .unix(let path): return try openUnix(path: path, mode: unixMode, group: unixGroup, backlog: backlog)
        case .tcp(let host, let port): return try openTCP(host: host, port: port, backlog: backlog)
        }
    }

    private static func openUnix(path: String, mode: mode_t, group: gid_t?, backlog: Int32) throws(ListenError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            throw ListenError(description: "socket path \(path) is longer than \(capacity - 1) bytes: choose a shorter one")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.utf8.enumerated() { buffer[i] = byte }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(description: "cannot create a socket: \(errnoText())") }

        func bindNow() -> Int32 {
            // Created owner-only, so that nobody can connect before chmod and chown below.
            let previous = umask(0o177)
            defer { umask(previous) }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        var bound = bindNow() == 0
        if !bound, errno == EADDRINUSE {
            // A stale file from a killed server blocks bind; a live server answers connect.
            if isAcceptingConnections(&address) {
                close(fd)
                throw ListenError(description: "\(path) is in use by another running server: stop it or choose another --listen path")
            }
            unlink(path)
            bound = bindNow() == 0
        }
        guard bound else {
            let reason = errnoText()
            close(fd)
            throw ListenError(description: "cannot bind \(path): \(reason); check that the directory exists and is writable")
        }
        if let group, chown(path, uid_t.max, group) != 0 {
            let reason = errnoText()
            close(fd)
            unlink(path)
            throw ListenError(description: "cannot give \(path) the group \(group): \(reason); run shoal as root or as a member of that group")
        }
        chmod(path, mode)
        guard listen(fd, backlog) == 0 else {
            let reason = errnoText()
            close(fd)
            throw ListenError(description: "cannot listen on \(path): \(reason)")
        }
        return fd
    }

    private static func isAcceptingConnections(_ address: inout sockaddr_un) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(probe) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    private static func openTCP(host: String, port: UInt16, backlog: Int32) throws(ListenError) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let info = results else {
            throw ListenError(description: "\(host) is not a numeric IP address: use e.g. 127.0.0.1:9000 or [::1]:9000")
        }
        defer { freeaddrinfo(results) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(description: "cannot create a socket: \(errnoText())") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let inUse = errno == EADDRINUSE
            let reason = errnoText()
            close(fd)
            let display = ListenAddress.tcp(host: host, port: port)
            throw ListenError(description: inUse
                ? "\(display) is already in use: stop the other server or choose another --listen address"
                : "cannot bind \(display): \(reason)")
        }
        guard listen(fd, backlog) == 0 else {
            let reason = errnoText()
            close(fd)
            throw ListenError(description: "cannot listen on \(host):\(port): \(reason)")
        }
        return fd
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
