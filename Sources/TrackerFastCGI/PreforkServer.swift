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
        var children = Set<pid_t>()
        var recentRestarts: [timespec] = []

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
            children.insert(pid)
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
            guard children.remove(pid) != nil else { continue }
            if Signals.shutdownRequested { break }
            log("worker \(pid) \(describe(status)); starting a new one")
            // A worker that dies at once (database gone, say) must not turn into a fork storm.
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            recentRestarts = recentRestarts.filter { now.tv_sec - $0.tv_sec < 10 } + [now]
            if recentRestarts.count > max(10, workers * 4) { sleep(1) }
            spawn()
        }

        stop(children)
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
