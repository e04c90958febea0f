import ArgumentParser
import Glibc
import TrackerConfig
import TrackerFastCGI

/// A self-managed pool of FastCGI workers on a socket of our own.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Listen on a socket and answer FastCGI with a pool of worker processes.",
        discussion: """
            Point nginx's fastcgi_pass (or Apache's mod_proxy_fcgi) at the listen address. \
            A worker that dies is replaced; SIGTERM or SIGINT stops the pool cleanly. Under systemd \
            socket activation (a .socket unit, LISTEN_FDS) the pool serves the socket systemd \
            passed instead of opening its own.
            """
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var options: TrackerOptions

    func run() throws {
        Signals.ignoreBrokenPipes()
        let resolved = try options.resolve(extra: server.commandLineSettings)
        let configuration = resolved.configuration
        let workers = configuration.workerCount(onlineCores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        if configuration.database == ":memory:", workers > 1 {
            logLine("configuration: database ':memory:' is private to one process: set workers = 1 or use a file on tmpfs")
            throw ExitCode(78)
        }
        let socket: Int32
        let activated: Bool
        do {
            if let inherited = try SocketActivation.inheritedListener() {
                socket = inherited
                activated = true
            } else {
                socket = try Listener.open(
                    configuration.listen, unixMode: mode_t(configuration.socketMode),
                    unixGroup: Setting.groupID(configuration.socketGroup))
                activated = false
            }
        } catch {
            logLine(error.description)
            throw ExitCode(1)
        }
        let place = activated ? "the socket systemd passed (listen is ignored)" : "\(configuration.listen)"
        // Open once here so a bad database stops start-up with one clear line, not N workers dying.
        _ = try openStoreOrExit(configuration)
        try checkControl(resolved)
        logLine("serving FastCGI on \(place) with \(workers) workers, database \(configuration.database)")
        // A batch holds the turn for at most about one busy timeout (waiting for SQLite's lock)
        // plus its own work; a worker that holds it much longer is not coming back by itself.
        let stuckAfter = 2 * configuration.busyTimeoutMilliseconds + 1000
        PreforkServer.run(workers: workers, stuckAfterMilliseconds: stuckAfter, log: logLine) { holdClock, replacing in
            let responder = Responder(configuration: resolved, readsRequestSettings: true)
            if let error = responder.openBaseStore() {
                logLine(describeOpenFailure(configuration.database, error))
                Glibc.exit(1)
            }
            responder.counters.add("workers_started")
            if replacing { responder.counters.add("workers_replaced") }
            let turnstile = makeTurnstile(configuration)
            turnstile?.holdClock = holdClock
            turnstile?.counters = responder.counters
            ConnectionLoop.serve(socket: socket, turnstile: turnstile, responder: responder, log: logLine)
            responder.flushCounters()
        }
        // A socket systemd opened is systemd's to remove.
        if !activated, case .unix(let path) = configuration.listen { unlink(path) }
        logLine("stopped")
    }
}

/// The settings only `shoal serve` uses.
struct ServerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: help("listen")) var listen: String?
    @Option(parsing: .unconditional, help: help("workers")) var workers: String?
    @Option(parsing: .unconditional, help: help("socket-mode")) var socketMode: String?
    @Option(parsing: .unconditional, help: help("socket-group")) var socketGroup: String?

    var commandLineSettings: [(name: String, value: String)] {
        [("listen", listen), ("workers", workers), ("socket-mode", socketMode), ("socket-group", socketGroup)].compactMap { name, value in
            value.map { (name, $0) }
        }
    }
}
