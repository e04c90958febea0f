import Glibc

/// Runs `workers` copies of a worker function in child processes sharing one listening socket,
/// like php-fpm's static pool: restarts a worker that dies, and on SIGTERM/SIGINT stops them all.
public enum PreforkServer {
    /// Blocks until shutdown; returns once every worker has exited.
    ///
    /// - Parameters:
    ///   - worker: runs in each child after `fork`; it must open its own database connection
    ///     there (an SQLite connection must not cross a fork). The child exits when it returns.
    ///   - log: receives one line per worker start failure or unexpected exit.
    public static func run(workers: Int, log: (String) -> Void, worker: () -> Void) {
        Signals.installSupervisorHandlers()
        /// Each worker and when it started (monotonic seconds).
        var children: [pid_t: Int] = [:]
        var recentQuickDeaths: [Int] = []

        func spawn() {
            let pid = fork()
            if pid == 0 {
                Signals.resetFlag()
                Signals.installWorkerHandlers()
                worker()
                exit(0)
            }
            if pid < 0 {
                log("cannot fork a worker: \(errnoText())")
                return
            }
            children[pid] = monotonicSeconds()
        }

        for _ in 0..<workers { spawn() }

        while !Signals.shutdownRequested {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 {
                if errno == EINTR { continue }
                if errno == ECHILD, children.isEmpty {
                    // Every fork failed; try again after a pause rather than spinning.
                    sleep(1)
                    for _ in 0..<workers { spawn() }
                    continue
                }
                break
            }
            guard let started = children.removeValue(forKey: pid) else { continue }
            if Signals.shutdownRequested { break }
            log("worker \(pid) \(describe(status)); starting a new one")
            // A worker that dies at once (database gone, say) must not turn into a fork storm, so
            // many quick deaths in a row slow restarts down. One that had been serving is replaced
            // at once whatever happened before: a burst of failures must never leave the pool
            // empty for long.
            let now = monotonicSeconds()
            if now - started < 1 {
                recentQuickDeaths = recentQuickDeaths.filter { now - $0 < 10 } + [now]
                if recentQuickDeaths.count > max(10, workers * 4) { sleep(1) }
            }
            spawn()
        }

        stop(Set(children.keys))
    }

    private static func monotonicSeconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec
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
