import Glibc

/// How many connections one worker holds and how long each may stay without finishing a request.
///
/// Anyone who can connect to the FastCGI socket could otherwise hold connections open for ever:
/// 9,000 idle connections blocked every request, and under `ulimit -n 1024` about 2,100 made both
/// workers spin on `accept4` failing with EMFILE. So connections time out, the cap follows the
/// descriptors the process may open, and at the cap the connection that has been quiet longest
/// makes room for the new one: a flood only displaces itself, while a web server's requests,
/// which arrive whole at once, always get in.
public struct ConnectionLimits: Sendable {
    /// A kept connection with no request in progress is closed after this long (nginx drops its
    /// idle upstream connections after 60 s by default and reconnects when it needs one).
    public static let idleMilliseconds: UInt64 = 30_000
    /// A request must arrive whole this long after its first byte; a web server sends one at once.
    public static let requestMilliseconds: UInt64 = 10_000
    /// Descriptors left for everything but connections: the listener, the database and its WAL
    /// and shared-memory files, databases named by request parameters, the log.
    static let reservedDescriptors = 64

    /// The most connections one worker holds at once.
    public let maxConnections: Int

    public init(maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
    }

    /// Raises this process's soft descriptor limit to its hard limit (as servers do; systemd's
    /// default soft limit is 1,024) and leaves `reservedDescriptors` of it for other uses.
    public static func fromResourceLimit() -> ConnectionLimits {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return ConnectionLimits(maxConnections: 1024 - reservedDescriptors) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, 1 << 20)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let descriptors = Int(clamping: min(limit.rlim_cur, 1 << 20))
        return ConnectionLimits(maxConnections: max(16, descriptors - reservedDescriptors))
    }

    /// Whether a connection has been quiet too long, at `now` (milliseconds). A reply the peer
    /// does not read counts as quiet too: a peer that sends requests and never reads the replies
    /// must not hold its descriptor for ever.
    static func hasExpired(_ connection: FastCGIConnection, now: UInt64) -> Bool {
        let quiet = now &- connection.lastActivity
        return quiet >= (connection.isMidRequest && !connection.hasPendingOutput ? requestMilliseconds : idleMilliseconds)
    }
}

/// The monotonic clock every process of the pool shares (the turnstile's hold clock is read by
/// the supervisor), in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// The same clock in milliseconds, for connection timeouts.
func monotonicMilliseconds() -> UInt64 { monotonicNanoseconds() / 1_000_000 }
