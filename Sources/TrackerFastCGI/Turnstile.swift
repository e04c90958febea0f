import TrackerCore
import CFastCGI
import Glibc

/// Lets one worker at a time take requests and answer them, across every process that serves the
/// same database. A worker holds it for a batch of requests (`ConnectionLoop`), and while busy for
/// several batches in a row, up to `defaultLongestHoldNanoseconds`.
///
/// SQLite admits one writer at a time, and nearly every request is a write. Without this, workers
/// that reach `BEGIN IMMEDIATE` together poll for SQLite's lock: the losers burn the CPU that the
/// web server needs, and the winner is random, so a request accepted early can wait behind many
/// later ones. A worker that waits here has not accepted its request yet: waiting requests stay
/// in the kernel's backlog, which hands them out oldest first, and waiting workers sleep. (bench/,
/// 2 cores, 2 workers: about 30% more announces per second at about a third less CPU each.)
///
/// The lock is `flock` on the database file, through a descriptor of this process's own (opened
/// in the worker; one shared across `fork` would be one lock holder for all). The kernel drops
/// it when the process dies, at whatever moment, so a killed worker never leaves it held. `flock`
/// locks are apart from SQLite's own byte-range locks on a local file system, which SQLite's WAL
/// needs anyway. The descriptor stays open for the life of the process: closing any descriptor of
/// the file would drop SQLite's locks of this process.
///
/// Waiting is bounded: a holder that is stopped (a debugger, SIGSTOP) makes the others go on
/// without the turnstile after `timeoutMilliseconds`, and SQLite's busy timeout then applies as
/// before. A waiter that timed out stops waiting on that holder: until it finds the turnstile free
/// again it only tries it without waiting, so a stopped holder costs each worker one timeout,
/// not one per batch (7,700 announces/s fell to 8/s). `shoal serve`'s supervisor kills a worker
/// that holds the turn far too long (`holdClock`). A file that cannot be locked at all only
/// means going without.
public final class Turnstile {
    // Used by one thread: each worker is a single-threaded process.
    private let path: String
    private let timeoutNanoseconds: UInt64
    private let report: (String) -> Void
    private var descriptor: Int32 = -1
    /// Set once the file turned out to be unusable for locking: never try again.
    private var unusable = false
    private var holding = false
    private var heldSince: UInt64 = 0
    private var lastReport: UInt64 = 0
    /// Set after a wait timed out: until the turnstile is seen free, do not wait for it.
    private(set) var bypassing = false

    /// Where this worker shows since when it has held the turn (monotonic nanoseconds, 0 while it
    /// does not): a slot in memory shared with `shoal serve`'s supervisor, which kills a worker
    /// that holds it far too long. Nil outside `shoal serve`.
    public var holdClock: UnsafeMutablePointer<UInt64>?
    /// Interrupts a wait that runs out; aimed at the waiting thread, not just the process.
    private var timer: timer_t?

    /// - Parameters:
    ///   - path: the database file; it need not exist yet (the first request creates it).
    ///   - report: where to say that the turnstile is unusable or was held too long (throttled).
    ///   - longestHoldNanoseconds: see `leaveIfHeldLong`.
    public init(
        path: String, timeoutMilliseconds: Int, longestHoldNanoseconds: UInt64 = defaultLongestHoldNanoseconds,
        report: @escaping (String) -> Void
    ) {
        self.path = path
        self.longestHoldNanoseconds = longestHoldNanoseconds
        self.timeoutNanoseconds = UInt64(max(1, timeoutMilliseconds)) * 1_000_000
        self.report = report
        Signals.installAlarmHandler()
    }

    /// How long a busy worker may keep the turn before it lets a waiting one have it: long enough
    /// that handing over (waking another process, which must then re-read the pages this one
    /// changed) is rare under load, short enough that requests on another worker's kept
    /// connections do not wait long.
    public static let defaultLongestHoldNanoseconds: UInt64 = 2_000_000
    private let longestHoldNanoseconds: UInt64

    /// Where waits for the turn are counted for /stats: `turn_waits`, `turn_wait_us`, `turn_timeouts`.
    public var counters: StatsCounters?

    /// Whether this process holds the turn now.
    var isHeld: Bool { holding }

    /// Waits for the turn. Does nothing if this process holds it already; goes on without it when
    /// the wait times out, a shutdown signal arrives, or the file cannot be locked.
    public func enter() {
        guard !holding, openIfNeeded() else { return }
        // Shown before the lock is taken and cleared only after it is let go, so that the
        // supervisor sees every moment this process may hold it (stopped right after `flock`
        // returned, say), at the price of also seeing a wait, which lasts one timeout at most.
        holdClock?.pointee = monotonicNanoseconds()
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
            holding = true
            if bypassing {
                bypassing = false
                report("the turnstile on \(path) is free again; workers take turns as before")
            }
        } else if errno == EWOULDBLOCK {
            if bypassing {
                holding = false
            } else {
                let started = monotonicNanoseconds()
                holding = waitForTurn()
                counters?.add("turn_waits")
                counters?.add("turn_wait_us", Int64((monotonicNanoseconds() - started) / 1000))
                if !holding { counters?.add("turn_timeouts") }
            }
        } else {
            _ = giveUp("cannot lock it (\(String(cString: strerror(errno))))")
        }
        if holding {
            heldSince = monotonicNanoseconds()
        } else {
            holdClock?.pointee = 0
        }
    }

    /// Gives the turn to the next waiting worker, if this process holds it.
    public func leave() {
        guard holding else { return }
        holding = false
        flock(descriptor, LOCK_UN)
        holdClock?.pointee = 0
    }

    /// Gives the turn up if this process has held it for `longestHoldNanoseconds` or more: a busy
    /// worker keeps it from one batch to the next, but not for ever.
    public func leaveIfHeldLong() {
        if holding, monotonicNanoseconds() - heldSince >= longestHoldNanoseconds { leave() }
    }

    /// Blocks in `flock`, with a timer to bound the wait: its signal interrupts the call.
    private func waitForTurn() -> Bool {
        let deadline = monotonicNanoseconds() + timeoutNanoseconds
        while true {
            let now = monotonicNanoseconds()
            if now >= deadline || Signals.shutdownRequested { break }
            guard arm(nanoseconds: deadline - now) else {
                // No timer: try again and again instead, briefly sleeping in between.
                if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
                usleep(50)
                continue
            }
            let result = flock(descriptor, LOCK_EX)
            let failure = errno
            _ = arm(nanoseconds: 0)
            if result == 0 { return true }
            if failure != EINTR { return giveUp("cannot lock it (\(String(cString: strerror(failure))))") }
        }
        if !Signals.shutdownRequested {
            bypassing = true
            reportThrottled("""
                another process has held the turnstile on \(path) for \(timeoutNanoseconds / 1_000_000) ms \
                (stopped or stuck?); answering without waiting for it until it is free again
                """)
        }
        return false
    }

    /// Opens the file on first use; false while it does not exist yet, or for good if unusable.
    private func openIfNeeded() -> Bool {
        if descriptor >= 0 { return true }
        if unusable { return false }
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 { return true }
        if errno != ENOENT { return giveUp("cannot open it (\(String(cString: strerror(errno))))") }
        return false
    }

    private func giveUp(_ reason: String) -> Bool {
        unusable = true
        report("turnstile on \(path): \(reason); workers will take turns through SQLite's busy handler only")
        return false
    }

    private func reportThrottled(_ message: String) {
        let now = monotonicNanoseconds()
        guard lastReport == 0 || now - lastReport >= 60 * 1_000_000_000 else { return }
        lastReport = now
        report(message)
    }

    /// Sets the timer to fire once after `nanoseconds` (0 disarms it); false if there is no timer.
    private func arm(nanoseconds: UInt64) -> Bool {
        if timer == nil {
            var event = sigevent()
            event.sigev_notify = Int32(SIGEV_THREAD_ID)
            event.sigev_signo = SIGALRM
            event._sigev_un._tid = gettid()
            var created: timer_t?
            guard timer_create(CLOCK_MONOTONIC, &event, &created) == 0 else { return false }
            timer = created
            // A thread that blocks the signal (as thread pools do) would never be interrupted.
            var alarm = sigset_t()
            sigemptyset(&alarm)
            sigaddset(&alarm, SIGALRM)
            pthread_sigmask(SIG_UNBLOCK, &alarm, nil)
        }
        var value = itimerspec()
        value.it_value.tv_sec = Int(nanoseconds / 1_000_000_000)
        value.it_value.tv_nsec = Int(nanoseconds % 1_000_000_000)
        return timer_settime(timer, 0, &value, nil) == 0
    }

}
