import Glibc
import TrackerConfig
import TrackerCore
import TrackerFastCGI
import TrackerStore

/// One worker's request handling: picks the tracker for each request's configuration and answers.
///
/// Most requests carry no `SHOAL_*` parameters and use the process's own tracker. A web server
/// may send some (`fastcgi_param SHOAL_DATABASE …`, Apache `SetEnv`), for instance to give each
/// virtual host its own database; each distinct set gets a tracker, built once and kept. Nothing
/// here outlives the process in a way that matters: it is all rebuilt on the next start.
final class Responder: BatchResponder {
    private let base: ResolvedConfiguration
    private let readsRequestSettings: Bool
    private var baseTracker: Tracker?
    private var trackers: [[String]: Tracker] = [:]
    private var stores: [String: SQLitePeerStore] = [:]
    private let log = LogThrottle()
    private var inBatch = false

    /// - Parameter readsRequestSettings: false for plain CGI, whose parameters are the process
    ///   environment and were already read as such.
    init(configuration: ResolvedConfiguration, readsRequestSettings: Bool) {
        base = configuration
        self.readsRequestSettings = readsRequestSettings
    }

    /// Opens the process's own database now, so that a problem is logged at start-up.
    func openBaseStore() -> SQLiteError? {
        do throws(SQLiteError) {
            baseTracker = try newTracker(for: base.configuration)
            return nil
        } catch {
            return error
        }
    }

    func beginBatch() {
        inBatch = true
        for store in stores.values { store.beginBatch() }
    }

    func finishBatch() -> TrackerResponse? {
        inBatch = false
        var stored = true
        for store in stores.values {
            if !store.finishBatch() { stored = false }
        }
        if stored { return nil }
        log.once("database error: a batch of requests could not be stored; answered 503")
        return Tracker.failureResponse(.unavailable, status: 503, retryIn: base.configuration.policy.retryInMinutes)
    }

    func respond(_ parameters: CGIParameters) -> TrackerResponse {
        let overrides = readsRequestSettings ? parameters.parameters(prefixed: "SHOAL_") : []
        guard let tracker = tracker(overrides: overrides) else {
            return Tracker.failureResponse(.unavailable, status: 503, retryIn: base.configuration.policy.retryInMinutes)
        }
        let addressPolicy = tracker.policy.clientAddress
        let header = addressPolicy.trustedProxies.isEmpty ? nil : addressPolicy.header.cgiVariable
        return tracker.respond(to: CGIVariables.trackerRequest(forwardedHeader: header, parameters.value))
    }

    private func tracker(overrides: [(name: String, value: String)]) -> Tracker? {
        if overrides.isEmpty {
            if let baseTracker { return baseTracker }
            baseTracker = build(base)
            return baseTracker
        }
        let key = overrides.flatMap { [$0.name, $0.value] }
        if let known = trackers[key] { return known }
        let resolved: ResolvedConfiguration
        do throws(ConfigurationError) {
            resolved = try ConfigurationLoader.applying(requestParameters: overrides, to: base)
        } catch {
            log.once("configuration: \(error)")
            return nil
        }
        resolved.warnings.forEach { log.once($0) }
        guard let tracker = build(resolved) else { return nil }
        // A web server sends a handful of distinct sets at most; a flood means a misconfiguration,
        // and forgetting is always safe.
        if trackers.count >= 64 { trackers.removeAll() }
        trackers[key] = tracker
        return tracker
    }

    private func build(_ resolved: ResolvedConfiguration) -> Tracker? {
        do throws(SQLiteError) {
            return try newTracker(for: resolved.configuration)
        } catch {
            log.once(describeOpenFailure(resolved.configuration.database, error))
            return nil
        }
    }

    /// Trackers with the same database share its connection.
    private func newTracker(for configuration: Configuration) throws(SQLiteError) -> Tracker {
        let key = "\(configuration.busyTimeoutMilliseconds) \(configuration.database)"
        let store: SQLitePeerStore
        if let known = stores[key] {
            store = known
        } else {
            store = try openStore(configuration)
            if inBatch { store.beginBatch() }
            stores[key] = store
        }
        return makeTracker(store: store, policy: configuration.policy)
    }
}

/// Logs a line unless the same line was logged in the last minute: a database that stays broken
/// under load writes one line a minute, not one per request.
final class LogThrottle {
    private var lastLogged: [String: time_t] = [:]

    func once(_ message: String) {
        let now = time(nil)
        if let last = lastLogged[message], now - last < 60 { return }
        if lastLogged.count > 100 { lastLogged.removeAll() }
        lastLogged[message] = now
        logLine(message)
    }
}
