import ArgumentParser
import Glibc
import TrackerCore
import TrackerFastCGI

/// The default mode: FastCGI on an inherited socket, or plain CGI.
struct Respond: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer requests as the web server started us: FastCGI on fd 0, or one CGI request.",
        discussion: """
            This is what runs when shoal is started with no subcommand, e.g. by Apache mod_fcgid, \
            spawn-fcgi, systemd socket activation, or as a CGI script.
            """
    )

    @OptionGroup var options: TrackerOptions

    func run() throws {
        // libfcgi installs a SIGPIPE handler of its own when asked whether this is CGI; say so
        // ourselves rather than rely on that, for plain CGI too (the reply to a web server that
        // went away is simply lost; what was stored stays stored).
        Signals.ignoreBrokenPipes()
        if FastCGIResponder.isCGI {
            try respondToCGI()
            return
        }
        let resolved = try options.resolve()
        if resolved.configuration.database == ":memory:" {
            logLine("note: ':memory:' keeps peers in this process only; other responders will not see them")
        }
        let responder = Responder(configuration: resolved, readsRequestSettings: true)
        // A database the operator named is opened now, so that a problem shows at start-up. The
        // default one is opened on first use: requests may name their own (SHOAL_DATABASE sent by
        // the web server), and then the default is never created. Either way a broken database
        // does not stop the process: a web server that spawns us (mod_fcgid) would only start us
        // again and again. Requests get 503 until it is fixed.
        if resolved.sources["database"] != nil, let error = responder.openBaseStore() {
            logLine(describeOpenFailure(resolved.configuration.database, error) + " Answering 503 until then.")
        }
        try checkControl(resolved, fatal: false)
        Signals.installWorkerHandlers()
        responder.counters.add("workers_started")
        let turnstile = makeTurnstile(resolved.configuration)
        turnstile?.counters = responder.counters
        ConnectionLoop.serve(socket: 0, turnstile: turnstile, responder: responder, log: logLine)
        responder.flushCounters()
    }

    private func respondToCGI() throws {
        guard getenv("GATEWAY_INTERFACE") != nil else {
            logLine("""
                no FastCGI socket on file descriptor 0 and no CGI environment. \
                Run shoal from a web server (FastCGI or CGI), or start a server with \
                `shoal serve --listen 127.0.0.1:9000`; see `shoal --help`.
                """)
            throw ExitCode(64)
        }
        // A CGI request must still get an answer, even when the configuration is bad.
        guard let resolved = try? options.resolve() else {
            FastCGIResponder.writeCGIResponse(Tracker.failureResponse(.internalError, status: 500))
            return
        }
        // The environment holds both the request and the settings; it was read as settings already.
        let responder = Responder(configuration: resolved, readsRequestSettings: false)
        FastCGIResponder.serveCGI(handler: responder.respond)
        responder.flushCounters()
    }
}
