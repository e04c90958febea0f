import Glibc

/// Runs `workers` copies of a worker function in child processes sharing one listening socket,
/// like php-fpm's static pool: restarts a worker that dies, kills one that holds the turn far too
/// long, and on SIGTERM/SIGINT stops them all.
public enum PreforkServer {
    /// Blocks until shutdown; returns once every worker has exited.
    ///
    /// - Parameters:
    ///   - stuckAfterMilliseconds: a worker that has held the turn (`Turnstile.holdClock`) this
    ///     long is stopped, stuck or frozen in a debugger: it is killed and replaced. SIGKILL is
    ///     safe at any instant (what it had not committed was never answered).
    ///   - worker: runs in each child after `fork` with its hold clock, the slot it shows its turn
    ///     in; it must open its own database connection there (an SQLite connection must not cross
    ///     a fork). The child exits when it returns.
    ///   - log: receives one line per worker start failure, unexpected exit or kill.
    public static func run(
        workers: Int, stuckAfterMilliseconds: Int, log: (String) -> Void,
        worker: (_ holdClock: UnsafeMutablePointer<UInt64>, _ replacesAnother: Bool) -> Void
    ) {
        Signals.installSupervisorHandlers()
        let board = HoldBoard(slots: workers)
        /// Each worker, its slot on the board and when it started (monotonic seconds).
        var children: [pid_t: (slot: Int, started: Int)] = [:]
        var recentQuickDeaths: [Int] = []

        func spawn(slot: Int, replacing: Bool = true) {
            board.clock(slot).pointee = 0
            let pid = fork()
            if pid == 0 {
                Signals.resetFlag()
                Signals.installWorkerHandlers()
                worker(board.clock(slot), replacing)
                exit(0)
            }
            if pid < 0 {
                log("cannot fork a worker: \(errnoText())")
                return
            }
            children[pid] = (slot, monotonicSeconds())
        }

        for slot in 0..<workers { spawn(slot: slot, replacing: false) }

        while !Signals.shutdownRequested {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid == 0 {
                killStuckWorkers(children, board: board, limit: UInt64(stuckAfterMilliseconds) * 1_000_000, log: log)
                usleep(100_000)  // a shutdown signal interrupts it
                continue
            }
            if pid < 0 {
                if errno == EINTR { continue }
                if errno == ECHILD, children.isEmpty {
                    // Every fork failed; try again after a pause rather than spinning.
                    sleep(1)
                    for slot in 0..<workers { spawn(slot: slot) }
                    continue
                }
                break
            }
            guard let child = children.removeValue(forKey: pid) else { continue }
            if Signals.shutdownRequested { break }
            log("worker \(pid) \(describe(status)); starting a new one")
            // A worker that dies at once (database gone, say) must not turn into a fork storm, so
            // many quick deaths in a row slow restarts down. One that had been serving is replaced
            // at once whatever happened before: a burst of failures must never leave the pool
            // empty for long.
            let now = monotonicSeconds()
            if now - child.started < 1 {
                recentQuickDeaths = recentQuickDeaths.filter { now - $0 < 10 } + [now]
                if recentQuickDeaths.count > max(10, workers * 4) { sleep(1) }
            }
            spawn(slot: child.slot)
        }

        stop(Set(children.keys))
    }

    private static func killStuckWorkers(
        _ children: [pid_t: (slot: Int, started: Int)], board: HoldBoard, limit: UInt64, log: (String) -> Void
    ) {
        let now = monotonicNanoseconds()
        for (pid, child) in children {
            let since = board.clock(child.slot).pointee
            guard since != 0, now > since, now - since >= limit else { continue }
            board.clock(child.slot).pointee = 0  // reported once; the slot is reset for the next worker
            kill(pid, SIGKILL)
            log("""
                worker \(pid) held the turn for \((now - since) / 1_000_000) ms (stopped, stuck or in a debugger?); \
                killed it
                """)
        }
    }

    private static func monotonicSeconds() -> Int {
        Int(monotonicNanoseconds() / 1_000_000_000)
    }

    /// SIGTERM to every worker, then SIGKILL to any still running after five seconds.
    private static func stop(_ children: Set<pid_t>) {
        var remaining = children
        for pid in remaining { kill(pid, SIGTERM) }
        for _ in 0..<500 where !remaining.isEmpty {
            for pid in remaining {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) != 0 { remaining.remove(pid) }
            }
            if !remaining.isEmpty { usleep(10_000) }
        }
        for pid in remaining {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    private static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by signal \(signal)"
    }
}

/// One slot per worker in memory shared across `fork`, where each shows since when it has held the
/// turn. An aligned 64-bit value is written and read whole on every platform Swift runs on Linux;
/// the supervisor only needs to see it eventually, and a value it reads a moment late only delays
/// a kill that waits seconds anyway.
final class HoldBoard {
    private let base: UnsafeMutablePointer<UInt64>

    init(slots: Int) {
        let bytes = max(1, slots) * MemoryLayout<UInt64>.stride
        let memory = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        precondition(memory != MAP_FAILED, "cannot map \(bytes) bytes of shared memory")
        base = memory!.bindMemory(to: UInt64.self, capacity: max(1, slots))
    }

    func clock(_ slot: Int) -> UnsafeMutablePointer<UInt64> { base + slot }
}
