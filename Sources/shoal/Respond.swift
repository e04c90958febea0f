import ArgumentParser
import Glibc
import TrackerCore
import TrackerFastCGI
import TrackerStore

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
        let policy = try options.policy()
        if FastCGIResponder.isCGI {
            try respondToCGI(policy: policy)
            return
        }
        if options.database == ":memory:" {
            logLine("note: ':memory:' keeps peers in this process only; other responders will not see them")
        }
        let store = try openStoreOrExit(options)
        let tracker = makeTracker(store: store, policy: policy)
        Signals.installWorkerHandlers()
        FastCGIResponder.serve(socket: 0) { tracker.respond(to: $0) }
    }

    private func respondToCGI(policy: Policy) throws {
        guard getenv("GATEWAY_INTERFACE") != nil else {
            logLine("""
                no FastCGI socket on file descriptor 0 and no CGI environment. \
                Run shoal from a web server (FastCGI or CGI), or start a server with \
                `shoal serve --listen 127.0.0.1:9000`; see `shoal --help`.
                """)
            throw ExitCode(64)
        }
        // A CGI request must still get an answer when the database cannot be opened.
        let tracker: Tracker
        do throws(SQLiteError) {
            tracker = makeTracker(store: try SQLitePeerStore(path: options.database, busyTimeoutMilliseconds: options.busyTimeout), policy: policy)
        } catch {
            logLine(describeOpenFailure(options.database, error))
            FastCGIResponder.writeCGIResponse(
                Tracker.failureResponse(.unavailable, status: 503, retryIn: policy.retryInMinutes))
            return
        }
        FastCGIResponder.serveCGI { tracker.respond(to: $0) }
    }
}
