import ArgumentParser
import Glibc
import TrackerConfig
import TrackerCore
import TrackerFastCGI
import TrackerStore
import TrackerTokens

/// Logs one line to stderr, which web servers put in their error log.
func logLine(_ message: String) {
    // One write(2) per line, so lines from concurrent workers do not interleave.
    let line = Array("shoal[\(getpid())]: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

/// Opens the store or stops the process with one line saying what to fix.
func openStoreOrExit(_ configuration: Configuration) throws -> SQLitePeerStore {
    do {
        return try openStore(configuration)
    } catch {
        logLine(describeOpenFailure(configuration.database, error))
        throw ExitCode(1)
    }
}

func openStore(_ configuration: Configuration) throws(SQLiteError) -> SQLitePeerStore {
    var limits = StoreLimits()
    limits.maxDatabaseBytes = configuration.maxDatabaseBytes
    limits.maxPeersPerAddress = configuration.maxPeersPerAddress
    limits.ledgerMaxRows = Int64(configuration.ledgerMaxRows)
    limits.sessionSeconds = Int64(configuration.sessionDays) * 86_400
    let store = try SQLitePeerStore(
        path: configuration.database, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds,
        fileMode: mode_t(configuration.databaseMode), limits: limits, log: logLine)
    store.permissionsNote.map(logLine)
    return store
}

func describeOpenFailure(_ path: String, _ error: SQLiteError) -> String {
    if let full = SpaceGuard.fullDiskNote(path) {
        return "cannot use database \(path): \(error.message); \(full). Free space there, or set another database."
    }
    let user = getpwuid(geteuid()).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
    return "cannot use database \(path): \(error.message). "
        + "Check that its directory exists and is writable by user \(user), or set another database."
}

/// The turnstile every worker serving `configuration.database` takes turns through; none for a
/// private in-memory database. Made in the worker, after any `fork`.
func makeTurnstile(_ configuration: Configuration) -> Turnstile? {
    guard configuration.database != ":memory:" else { return nil }
    return Turnstile(
        path: configuration.database, timeoutMilliseconds: configuration.busyTimeoutMilliseconds, report: logLine)
}

/// The tracker as every mode runs it: the real clock and a log on stderr.
func makeTracker(store: SQLitePeerStore, control: SQLiteControlStore?, configuration: Configuration) -> Tracker {
    let tracker = Tracker(
        store: store, accessList: control, policy: configuration.policy, clock: { Int64(time(nil)) }, log: logLine)
    if configuration.policy.tracking == .private {
        tracker.tokens = HMACTokenKeys(secrets: [configuration.secret, configuration.previousSecret])
        tracker.site = control
    }
    return tracker
}

/// Opens the control database as responders use it.
func openControl(_ configuration: Configuration, durable: Bool = false) throws(SQLiteError) -> SQLiteControlStore {
    try SQLiteControlStore(
        path: configuration.controlDatabase, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds,
        fileMode: mode_t(configuration.databaseMode), durable: durable)
}

/// Whether the tracker cannot serve without its control database: a closed tracker, or one whose
/// operator named the control database (and so expects its counts and rules to be kept).
func controlRequired(_ resolved: ResolvedConfiguration) -> Bool {
    let configuration = resolved.configuration
    return configuration.policy.access != .open || configuration.policy.tracking == .private
        || !configuration.policy.controlSecret.isEmpty || resolved.sources["control-database"] != nil
}

func describeControlFailure(_ path: String, _ error: SQLiteError) -> String {
    "cannot use control database \(path): \(error.message)"
}

/// At start-up: stops the process with one line when the tracker cannot serve without its control
/// database (unless `fatal` is false: a process a web server spawns answers 503 instead);
/// otherwise says once that it runs without one.
func checkControl(_ resolved: ResolvedConfiguration, fatal: Bool = true) throws {
    let configuration = resolved.configuration
    guard !configuration.controlDatabase.isEmpty else { return }
    do {
        _ = try openControl(configuration)
    } catch {
        let line = describeControlFailure(configuration.controlDatabase, error)
        if controlRequired(resolved) {
            logLine(fatal ? line : line + "; answering 503 until then")
            if fatal { throw ExitCode(1) }
            return
        }
        logLine(line + ". Running without it: completed counts will not survive a reboot and client rules "
            + "cannot be set (an empty control-database runs without one quietly).")
    }
}
