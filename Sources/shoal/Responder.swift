import Glibc
import TrackerConfig
import TrackerCore
import TrackerFastCGI
import TrackerStore

/// One worker's request handling: picks the tracker for each request's configuration and answers.
///
/// Most requests carry no `SHOAL_*` parameters and use the process's own tracker. A web server
/// may send some (`fastcgi_param SHOAL_INTERVAL …`, Apache `SetEnv`), for instance to give each
/// virtual host its own policy or, inside `request-database-dir`, its own database; each distinct
/// set gets a tracker, built once and kept. Whatever the parameters, there is one SQLite
/// connection per database file, and at most `maxOpenDatabases` of them: a flood of distinct
/// values (each busy timeout once opened a connection of its own, never closed) costs a bounded
/// amount of memory and descriptors. Nothing here outlives the process in a way that matters.
final class Responder: BatchResponder, StatsSource, FullScrapeSource, TorrentCatalog {
    /// Databases one worker keeps open besides its own; the least recently used is closed first.
    static let maxOpenDatabases = 8
    /// Distinct sets of request parameters one worker keeps a tracker for.
    static let maxTrackers = 64

    /// One open database: its store, and when a request last used it (for closing the least
    /// recently used). A route holds it directly, so a request needs no lookup by path.
    final class OpenStore {
        let store: SQLitePeerStore
        var lastUsed: UInt64
        /// False once closed: routes that still hold it are rebuilt.
        var isOpen = true

        init(_ store: SQLitePeerStore, lastUsed: UInt64) {
            self.store = store
            self.lastUsed = lastUsed
        }
    }

    /// A tracker with what it needs set per request.
    private struct Route {
        let tracker: Tracker
        let database: OpenStore
        let busyTimeoutMilliseconds: Int
        /// Built with the control database: once it opens, routes built without it are rebuilt.
        let hasControl: Bool
    }

    private let base: ResolvedConfiguration
    private let readsRequestSettings: Bool
    private var baseRoute: Route?
    private var routes: [[String]: Route] = [:]
    private var stores: [String: OpenStore] = [:]
    private var useCount: UInt64 = 0
    private let log = LogThrottle()
    private var inBatch = false
    /// The control database, shared by every route; opened on first use.
    private(set) var control: SQLiteControlStore?
    /// When opening it last failed; it is tried again 10 seconds later.
    private var controlFailedAt: time_t?
    /// What this worker counted for /stats since its last flush (about a second ago).
    let counters = StatsCounters()
    private var batchSize = 0
    /// The database of the request being answered: /stats reports on it.
    private(set) var serving: OpenStore?
    /// The tracker answering the request (a reference: copying its policy per request costs).
    private var servingTracker: Tracker?
    /// Full scrape copies by database, with the access mode and age they were last asked with.
    private var fullScrapeCaches: [String: (cache: FullScrapeCache, access: AccessMode, maxAge: Int64)] = [:]
    private var nextFullScrapeCleanup: Int64 = 0

    /// - Parameter readsRequestSettings: false for plain CGI, whose parameters are the process
    ///   environment and were already read as such.
    init(configuration: ResolvedConfiguration, readsRequestSettings: Bool) {
        base = configuration
        self.readsRequestSettings = readsRequestSettings
    }

    /// Opens the process's own database now, so that a problem is logged at start-up.
    func openBaseStore() -> SQLiteError? {
        openControlIfDue()
        do throws(SQLiteError) {
            baseRoute = try newRoute(for: base.configuration)
            return nil
        } catch {
            return error
        }
    }

    func beginBatch() {
        inBatch = true
        batchSize = 0
        control?.beginBatch()
        for entry in stores.values { entry.store.beginBatch() }
    }

    func finishBatch() -> TrackerResponse? {
        inBatch = false
        if batchSize > 0 { counters.addBatch(size: batchSize) }
        control?.finishBatch()
        var stored = true
        for entry in stores.values {
            if !entry.store.finishBatch() { stored = false }
        }
        closeLeastRecentlyUsedDatabases()
        if stored { return nil }
        log.once("database error: a batch of requests could not be stored; answered 503")
        return Tracker.failureResponse(.unavailable, status: 503, retryIn: base.configuration.policy.retryInMinutes)
    }

    func maintain() {
        let now = Int64(time(nil))
        for entry in stores.values { entry.store.maintain(now: now) }
        saveCounts(now: now)
        flushCounters()
        if now >= nextFullScrapeCleanup, let own = stores[base.configuration.database] {
            nextFullScrapeCleanup = now + 60
            try? own.store.forgetFullScrapeClients(before: now - Int64(base.configuration.policy.fullScrapeIntervalSeconds))
        }
    }

    /// Adds what this worker counted to the shared counters of its own database. If that fails
    /// (a busy or full database), the counts wait for the next flush.
    func flushCounters() {
        for entry in stores.values where entry.store.expiredRemoved > 0 {
            counters.add("expired_removed", entry.store.expiredRemoved)
            entry.store.expiredRemoved = 0
        }
        guard let own = stores[base.configuration.database] else { return }
        let increments = counters.drain()
        do {
            try own.store.addCounters(increments)
        } catch {
            for (name, amount) in increments { counters.add(name, amount) }
        }
    }

    func fullScrape(for address: IPAddress, gzip: Bool, policy: Policy, now: Int64) throws -> [UInt8] {
        guard let store = serving?.store else { throw TrackerFailure.unavailable }
        guard try store.claimFullScrape(for: address, interval: Int64(policy.fullScrapeIntervalSeconds), now: now) else {
            throw TrackerFailure.fullScrapeThrottled
        }
        let path = store.spaceGuardPath
        let cache = fullScrapeCaches[path]?.cache
            ?? FullScrapeCache(databasePath: path, mode: mode_t(base.configuration.databaseMode))
        let maxAge = Int64(policy.fullScrapeCacheSeconds)
        fullScrapeCaches[path] = (cache, policy.access, maxAge)
        return try cache.body(gzip: gzip, maxAge: maxAge, now: now) {
            try makeFullScrape(store, access: policy.access)
        }
    }

    /// Stale full scrapes are made again here, outside the turn: the others go on serving.
    func maintainOutsideTurn() {
        let now = Int64(time(nil))
        for (path, entry) in fullScrapeCaches {
            guard let store = stores[path]?.store else { continue }
            do {
                try entry.cache.refreshIfWanted(maxAge: entry.maxAge, now: now) {
                    try makeFullScrape(store, access: entry.access)
                }
            } catch {
                log.once("could not make the full scrape of \(path): \(error)")
            }
        }
    }

    private func makeFullScrape(_ store: SQLitePeerStore, access: AccessMode) throws -> [UInt8] {
        guard access != .open else { return try store.fullScrapeBody { _ in true } }
        guard let control else { throw Tracker.AccessListMissing() }
        let listed = try control.allListedHashes()
        let whitelist = access == .whitelist
        return try store.fullScrapeBody { listed.contains($0) == whitelist }
    }

    func busiest(limit: Int) throws -> (StatsSnapshot, [StatusPage.Entry]) {
        let snapshot = try self.snapshot(includingTop: true)
        guard let store = serving?.store else { return (snapshot, []) }
        let access = servingTracker?.policy.access ?? .open
        var entries: [StatusPage.Entry] = []
        for (hash, _) in snapshot.topByPeers where entries.count < limit {
            guard let infoHash = InfoHash(hash) else { continue }
            let known = try control?.catalogEntry(infoHash, withMetainfo: false)
            if access == .whitelist && known == nil || access == .blacklist && known != nil { continue }
            let counts = try store.scrape([infoHash])[0]
            entries.append(StatusPage.Entry(
                infoHash: hash, name: known?.name, seeders: Int64(counts.seeders), leechers: Int64(counts.leechers),
                downloaded: Int64(counts.downloaded),
                hasFile: known?.metainfo != nil && access != .blacklist && servingTracker?.policy.serveTorrents == true))
        }
        return (snapshot, entries)
    }

    func torrentFile(_ infoHash: InfoHash) throws -> (bytes: [UInt8], name: String?)? {
        // A blacklist's entries are the banned torrents: never handed out.
        guard servingTracker?.policy.access != .blacklist, let entry = try control?.catalogEntry(infoHash, withMetainfo: true),
            let bytes = entry.metainfo
        else { return nil }
        return (bytes, entry.name)
    }

    func snapshot(includingTop: Bool) throws -> StatsSnapshot {
        guard let store = serving?.store ?? stores[base.configuration.database]?.store else { return StatsSnapshot() }
        return try store.statsSnapshot(control: control, includingTop: includingTop, now: Int64(time(nil)))
    }

    /// Copies the process's own database's completed counts to the control database when due,
    /// after adding the saved ones back if that was not done yet (a control database that opened
    /// only after the peers database). Request-named databases keep theirs on tmpfs only: one
    /// control database cannot tell their swarms apart.
    private func saveCounts(now: Int64) {
        guard let control, let own = stores[base.configuration.database] else { return }
        restoreCounts(into: own.store, from: control)
        do {
            try own.store.saveCountsIfDue(
                to: control, now: now, interval: Int64(base.configuration.countsSaveInterval))
        } catch {
            log.once("could not copy completed counts to \(control.path): \(error)")
        }
    }

    func respond(_ parameters: CGIParameters) -> TrackerResponse {
        let overrides = readsRequestSettings ? parameters.parameters(prefixed: "SHOAL_") : []
        guard let route = route(overrides: overrides) else {
            return Tracker.failureResponse(.unavailable, status: 503, retryIn: base.configuration.policy.retryInMinutes)
        }
        useCount += 1
        batchSize += 1
        route.database.lastUsed = useCount
        route.database.store.database.busyTimeoutMilliseconds = route.busyTimeoutMilliseconds
        let addressPolicy = route.tracker.policy.clientAddress
        let header = addressPolicy.trustedProxies.isEmpty ? nil : addressPolicy.header.cgiVariable
        var request = CGIVariables.trackerRequest(forwardedHeader: header, parameters.value)
        if route.tracker.isStatsPath(request.path) { request.authorization = parameters.value("HTTP_AUTHORIZATION") }
        // Only the control endpoint reads the method and the body: trackers without one skip both.
        if !route.tracker.policy.controlSecret.isEmpty {
            if let method = parameters.value("REQUEST_METHOD"), !method.isEmpty { request.method = method }
            request.body = parameters.body
            request.bodyTooLarge = parameters.bodyTooLarge
        }
        // Only a full scrape can be gzipped: a scrape with no query (a scrape of hashes has one).
        if request.query.isEmpty, route.tracker.policy.fullScrape, let accepted = parameters.value("HTTP_ACCEPT_ENCODING") {
            request.acceptsGzip = String(decoding: accepted, as: UTF8.self).lowercased().contains("gzip")
        }
        serving = route.database
        servingTracker = route.tracker
        return route.tracker.respond(to: request)
    }

    private func route(overrides: [(name: String, value: String)]) -> Route? {
        openControlIfDue()
        if overrides.isEmpty {
            if let baseRoute, baseRoute.database.isOpen, baseRoute.hasControl == (control != nil) { return baseRoute }
            baseRoute = build(base)
            return baseRoute
        }
        let key = overrides.flatMap { [$0.name, $0.value] }
        if let known = routes[key], known.database.isOpen, known.hasControl == (control != nil) { return known }
        let resolved: ResolvedConfiguration
        do throws(ConfigurationError) {
            resolved = try ConfigurationLoader.applying(requestParameters: overrides, to: base)
        } catch {
            log.once("configuration: \(error)")
            return nil
        }
        resolved.warnings.forEach { log.once($0) }
        guard let route = build(resolved) else { return nil }
        // A web server sends a handful of distinct sets at most; a flood means a misconfiguration,
        // and forgetting is always safe.
        if routes.count >= Self.maxTrackers { routes.removeAll() }
        routes[key] = route
        return route
    }

    private func build(_ resolved: ResolvedConfiguration) -> Route? {
        do throws(SQLiteError) {
            return try newRoute(for: resolved.configuration)
        } catch {
            log.once(describeOpenFailure(resolved.configuration.database, error))
            return nil
        }
    }

    /// Trackers with the same database share its one connection, whatever their other settings.
    private func newRoute(for configuration: Configuration) throws(SQLiteError) -> Route {
        let path = configuration.database
        let open: OpenStore
        if let known = stores[path] {
            open = known
        } else {
            let store = try openStore(configuration)
            // Before its first batch: the counts are back before the first scrape is answered.
            if let control, path == base.configuration.database { restoreCounts(into: store, from: control) }
            if inBatch { store.beginBatch() }
            useCount += 1
            open = OpenStore(store, lastUsed: useCount)
            stores[path] = open
        }
        let tracker = makeTracker(store: open.store, control: control, configuration: configuration)
        if !configuration.policy.controlSecret.isEmpty { tracker.siteAdministration = self }
        tracker.counters = counters
        tracker.statsSource = self
        tracker.fullScrapes = self
        tracker.catalog = self
        return Route(
            tracker: tracker, database: open, busyTimeoutMilliseconds: configuration.busyTimeoutMilliseconds,
            hasControl: control != nil)
    }

    /// Opens the control database if it is not open yet and was not tried in the last 10 seconds.
    /// An open tracker with the default control database that cannot be used runs without it for
    /// good: `shoal serve` (or the first request) said why once.
    private func openControlIfDue() {
        let configuration = base.configuration
        guard control == nil, !configuration.controlDatabase.isEmpty else { return }
        let now = time(nil)
        if let failed = controlFailedAt, now - failed < 10 || !controlRequired(base) { return }
        do throws(SQLiteError) {
            let opened = try openControl(configuration)
            if inBatch { opened.beginBatch() }
            control = opened
            controlFailedAt = nil
            // Inside a batch the peers database has a transaction open: the upkeep does it then.
            if !inBatch, let own = stores[configuration.database] { restoreCounts(into: own.store, from: opened) }
        } catch {
            controlFailedAt = now
            // Not needed: said once at start-up (checkControl), not again by every worker.
            if controlRequired(base) {
                log.once(describeControlFailure(configuration.controlDatabase, error) + "; answering 503 until then")
            }
        }
    }

    private func restoreCounts(into store: SQLitePeerStore, from control: SQLiteControlStore) {
        do {
            try store.restoreCounts(from: control, now: Int64(time(nil)))
        } catch {
            log.once("could not restore completed counts from \(control.path): \(error)")
        }
    }

    /// Closes request-named databases beyond `maxOpenDatabases`, least recently used first, with
    /// every tracker that used them. Only between batches: a store in a batch has a transaction
    /// open. The process's own database stays open.
    private func closeLeastRecentlyUsedDatabases() {
        while stores.count > Self.maxOpenDatabases + 1 {
            guard let (path, closing) = stores.filter({ $0.key != base.configuration.database })
                .min(by: { $0.value.lastUsed < $1.value.lastUsed })
            else { return }
            closing.isOpen = false
            stores[path] = nil
            routes = routes.filter { $0.value.database.isOpen }
        }
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
