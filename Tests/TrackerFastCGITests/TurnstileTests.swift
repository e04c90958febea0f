import Glibc
import Testing

@testable import TrackerFastCGI

/// Two `Turnstile`s on one file stand for two worker processes: `flock` locks belong to the open
/// file, so two descriptors from `open` exclude each other even inside one process.
@Suite(.serialized) struct TurnstileTests {
    let path: String

    init() {
        var template = Array("/tmp/shoal-turnstile-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        close(fd)
        path = String(cString: template)
    }

    private func monotonicMilliseconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }

    @Test func oneHolderAtATimeAndTheNextEntersWhenItLeaves() {
        defer { unlink(path) }
        let first = Turnstile(path: path, timeoutMilliseconds: 2000, report: { _ in })
        let second = Turnstile(path: path, timeoutMilliseconds: 2000, report: { _ in })
        first.enter()
        #expect(first.isHeld)
        first.enter()  // entering again while holding changes nothing
        #expect(first.isHeld)
        first.leave()
        #expect(!first.isHeld)
        second.enter()
        #expect(second.isHeld)
        second.leave()
    }

    @Test func aBusyHolderKeepsTheTurnOnlyUntilItHasHeldItLongEnough() {
        defer { unlink(path) }
        let patient = Turnstile(path: path, timeoutMilliseconds: 2000, longestHoldNanoseconds: 3_600_000_000_000, report: { _ in })
        patient.enter()
        patient.leaveIfHeldLong()
        #expect(patient.isHeld)
        patient.leave()
        let brief = Turnstile(path: path, timeoutMilliseconds: 2000, longestHoldNanoseconds: 0, report: { _ in })
        brief.enter()
        #expect(brief.isHeld)
        brief.leaveIfHeldLong()
        #expect(!brief.isHeld)
        patient.enter()  // and it really let go of the lock
        #expect(patient.isHeld)
        patient.leave()
    }

    @Test func aHolderThatNeverLeavesDelaysOthersOnlyUntilTheTimeout() {
        defer { unlink(path) }
        let stuck = Turnstile(path: path, timeoutMilliseconds: 2000, report: { _ in })
        var reports: [String] = []
        let waiting = Turnstile(path: path, timeoutMilliseconds: 150, report: { reports.append($0) })
        stuck.enter()
        let started = monotonicMilliseconds()
        waiting.enter()
        let waited = monotonicMilliseconds() - started
        #expect(!waiting.isHeld)
        #expect(waited >= 140)
        #expect(waited < 1500)
        #expect(reports.count == 1 && reports[0].contains("held the turnstile"))
        // Having timed out once, it no longer waits on that holder at all (nor reports again).
        #expect(waiting.bypassing)
        waiting.enter()
        #expect(!waiting.isHeld)
        #expect(reports.count == 1)
        stuck.leave()
        waiting.enter()
        #expect(waiting.isHeld)
        #expect(!waiting.bypassing)
        #expect(reports.count == 2 && reports[1].contains("free again"))
        waiting.leave()
    }

    @Test func theHoldClockShowsSinceWhenTheTurnIsHeld() {
        defer { unlink(path) }
        let slot = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        defer { slot.deallocate() }
        slot.pointee = 0
        let turnstile = Turnstile(path: path, timeoutMilliseconds: 100, report: { _ in })
        turnstile.holdClock = slot
        let before = monotonicNanoseconds()
        turnstile.enter()
        #expect(slot.pointee >= before)
        turnstile.leave()
        #expect(slot.pointee == 0)
    }

    @Test func aDatabaseNotCreatedYetIsLockedOnceItExists() {
        unlink(path)
        defer { unlink(path) }
        var reports: [String] = []
        let turnstile = Turnstile(path: path, timeoutMilliseconds: 100, report: { reports.append($0) })
        turnstile.enter()
        #expect(!turnstile.isHeld)
        close(open(path, O_CREAT | O_WRONLY, 0o600))
        turnstile.enter()
        #expect(turnstile.isHeld)
        turnstile.leave()
        #expect(reports.isEmpty)
    }

    @Test func anUnreadableFileIsReportedOnceAndThenLeftAlone() {
        defer { unlink(path) }
        var reports: [String] = []
        // A path through a regular file cannot be opened (ENOTDIR), whoever runs the test.
        let turnstile = Turnstile(path: path + "/peers.db", timeoutMilliseconds: 100, report: { reports.append($0) })
        turnstile.enter()
        turnstile.enter()
        #expect(!turnstile.isHeld)
        #expect(reports.count == 1 && reports[0].contains("cannot open"))
    }
}
