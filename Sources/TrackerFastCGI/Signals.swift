import Glibc

/// Signal handling for the supervisor and its workers. Handlers only set a flag, which is all that
/// is safe inside a signal handler.
public enum Signals {
    // Written only by signal handlers, read by the one thread that runs the loops.
    nonisolated(unsafe) private static var shutdownFlag: sig_atomic_t = 0

    /// Whether SIGTERM, SIGINT or SIGHUP has arrived since the handlers were installed.
    public static var shutdownRequested: Bool { shutdownFlag != 0 }

    /// Worker: SIGTERM/SIGINT/SIGHUP finish the request in hand, then stop. Installed without
    /// SA_RESTART so a blocked `poll` returns at once.
    public static func installWorkerHandlers() {
        install([SIGTERM, SIGINT, SIGHUP]) { _ in Signals.shutdownFlag = 1 }
    }

    /// Supervisor: the same signals stop the server; `waitpid` returns early to notice.
    public static func installSupervisorHandlers() {
        install([SIGTERM, SIGINT, SIGHUP]) { _ in Signals.shutdownFlag = 1 }
    }

    /// SIGALRM does nothing but interrupt the blocking call in progress (without SA_RESTART), which
    /// is how `Turnstile` bounds its wait. Installed once per process.
    static func installAlarmHandler() {
        install([SIGALRM]) { _ in }
    }

    /// A peer that hangs up before its reply is written (a client that aborts makes nginx close
    /// the upstream connection) must cost only that reply: `write` then fails with EPIPE, which
    /// the connection loop handles, instead of SIGPIPE killing the worker and every request of
    /// its batch. Called first thing in every mode; inherited across `fork`.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Clears a shutdown request inherited from the supervisor (in a freshly forked worker).
    static func resetFlag() { shutdownFlag = 0 }

    private static func install(_ signals: [Int32], handler: @convention(c) (Int32) -> Void) {
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handler
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }
}
