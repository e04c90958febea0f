import ArgumentParser
import Glibc
import TrackerCore
import TrackerFastCGI

/// A self-managed pool of FastCGI workers on a socket of our own.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Listen on a socket and answer FastCGI with a pool of worker processes.",
        discussion: """
            Point nginx's fastcgi_pass (or Apache's mod_proxy_fcgi) at the --listen address. \
            A worker that dies is replaced; SIGTERM or SIGINT stops the pool cleanly.
            """
    )

    @Option(help: ArgumentHelp(
        "Where to listen: unix:/path/to.sock, 127.0.0.1:9000, [::1]:9000 or :9000.", valueName: "address"))
    var listen: String = "127.0.0.1:9000"

    @Option(help: ArgumentHelp("Worker processes (default: one per CPU core, at least 2).", valueName: "count"))
    var workers: Int?

    @Option(help: ArgumentHelp(
        "Permissions of a Unix socket file, in octal; the web server's user must be able to connect.",
        valueName: "mode"))
    var socketMode: String = "666"

    @OptionGroup var options: TrackerOptions

    func validate() throws {
        guard ListenAddress(listen) != nil else {
            throw ValidationError("--listen \(listen) is not unix:/path, host:port, [ipv6]:port or :port")
        }
        if let workers, workers < 1 || workers > 1024 {
            throw ValidationError("--workers must be between 1 and 1024 (got \(workers))")
        }
        if options.database == ":memory:", workerCount > 1 {
            throw ValidationError("--database :memory: is private to one process: use --workers 1 or a file on tmpfs")
        }
        guard mode_t(socketMode, radix: 8).map({ $0 <= 0o777 }) == true else {
            throw ValidationError("--socket-mode must be octal permissions like 660 (got \(socketMode))")
        }
    }

    private var workerCount: Int { workers ?? max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    func run() throws {
        let policy = try options.policy()
        let address = ListenAddress(listen)!  // checked in validate()
        let socket: Int32
        do {
            socket = try Listener.open(address, unixMode: mode_t(socketMode, radix: 8)!)
        } catch {
            logLine(error.description)
            throw ExitCode(1)
        }
        // Open once here so a bad database stops start-up with one clear line, not N workers dying.
        _ = try openStoreOrExit(options)
        logLine("serving FastCGI on \(address) with \(workerCount) workers, database \(options.database)")
        let count = workerCount
        PreforkServer.run(workers: count, log: logLine) {
            guard let store = try? openStoreOrExit(options) else { Glibc.exit(1) }
            let tracker = makeTracker(store: store, policy: policy)
            FastCGIResponder.serve(socket: socket) { tracker.respond(to: $0) }
        }
        if case .unix(let path) = address { unlink(path) }
        logLine("stopped")
    }
}
