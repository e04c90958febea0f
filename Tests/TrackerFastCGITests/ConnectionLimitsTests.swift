import Glibc
import Testing
import TrackerCore

@testable import TrackerFastCGI

@Suite struct ConnectionLimitsTests {
    @Test func quietConnectionsExpireSoonerWhenMidRequest() {
        var idle = FastCGIConnection()
        idle.lastActivity = 1_000
        #expect(!ConnectionLimits.hasExpired(idle, now: 1_000 + ConnectionLimits.idleMilliseconds - 1))
        #expect(ConnectionLimits.hasExpired(idle, now: 1_000 + ConnectionLimits.idleMilliseconds))

        var halfSent = FastCGIConnection()
        halfSent.lastActivity = 1_000
        var writer = RecordWriter()
        writer.begin(keep: true)
        writer.bytes.withUnsafeBytes { halfSent.receive($0) }
        halfSent.process { _ in TrackerResponse(status: 200, body: []) }
        #expect(halfSent.isMidRequest)
        #expect(!ConnectionLimits.hasExpired(halfSent, now: 1_000 + ConnectionLimits.requestMilliseconds - 1))
        #expect(ConnectionLimits.hasExpired(halfSent, now: 1_000 + ConnectionLimits.requestMilliseconds))
    }

    @Test func theCapFollowsTheDescriptorLimitAndRaisesIt() {
        var before = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &before)
        let limits = ConnectionLimits.fromResourceLimit()
        var after = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &after)
        #expect(after.rlim_cur == min(before.rlim_max, 1 << 20))
        #expect(limits.maxConnections == max(16, Int(after.rlim_cur) - 64))
    }
}

extension ConnectionLimitsTests {
    @Test func aReplyThePeerNeverReadsExpiresAfterTheIdleTimeout() {
        var connection = FastCGIConnection()
        connection.lastActivity = 0
        var writer = RecordWriter()
        writer.request(keep: true, [("QUERY_STRING", "x")])
        writer.bytes.withUnsafeBytes { connection.receive($0) }
        connection.process { _ in TrackerResponse(status: 200, body: [1, 2, 3]) }
        #expect(connection.hasPendingOutput)
        #expect(!ConnectionLimits.hasExpired(connection, now: ConnectionLimits.idleMilliseconds - 1))
        #expect(ConnectionLimits.hasExpired(connection, now: ConnectionLimits.idleMilliseconds))
    }
}
