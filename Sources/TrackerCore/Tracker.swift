/// Answers `/announce` and `/scrape` requests against a `PeerStore`.
///
/// Keeps nothing between requests that matters: the random generator and the log throttle are
/// the only state, and losing either (a worker killed mid-request) loses nothing.
public final class Tracker {
    public let policy: Policy
    let store: any PeerStore
    /// The torrent list and client rules; nil when there is no control database (then only
    /// `access = open` can serve).
    private let accessList: (any AccessList)?
    /// Where request outcomes are counted (nil: not counted), and where /stats reads from.
    public var counters: StatsCounters?
    public var statsSource: (any StatsSource)?
    public var fullScrapes: (any FullScrapeSource)?
    public var catalog: (any TorrentCatalog)?
    /// Private tracking: the token secrets, the site's control state, and what its control
    /// endpoint changes (all nil for a public tracker).
    public var tokens: (any TokenVerifier)?
    public var site: (any SiteState)?
    public var siteAdministration: (any SiteAdministration)?
    let clock: () -> Int64
    private let log: (String) -> Void
    private var random: FastRandom
    private var lastLogged: (message: String, time: Int64)? = nil
    /// The intervals in effect and when they were found (adaptive mode reads the peer count at
    /// most once a second).
    private var currentIntervals: (time: Int64, interval: Int, minInterval: Int)?

    /// - Parameters:
    ///   - clock: the current Unix time in seconds (injected so tests never sleep).
    ///   - log: receives one line per distinct failure of our own (not the client's).
    public init(
        store: any PeerStore, accessList: (any AccessList)? = nil, policy: Policy, clock: @escaping () -> Int64,
        random: FastRandom = FastRandom(), log: @escaping (String) -> Void
    ) {
        self.store = store
        self.accessList = accessList
        self.policy = policy
        self.clock = clock
        self.random = random
        self.log = log
    }

    /// Routes and answers one request. Never throws: every outcome is an HTTP status and a
    /// bencoded body (a `failure reason` for anything that went wrong).
    public func respond(to request: TrackerRequest) -> TrackerResponse {
        let (response, counter) = answer(request)
        counters?.add(counter)
        return response
    }

    /// Whether `path` names /stats (its last segment is `stats-path`'s). Runs for every request,
    /// so it compares bytes in place: no generic wrappers, no copies.
    public func isStatsPath(_ path: [UInt8]) -> Bool {
        let segment = statsSegment
        guard path.count >= segment.count + 1, path[path.count - segment.count - 1] == UInt8(ascii: "/") else {
            return false
        }
        var offset = path.count - segment.count
        for byte in segment {
            if path[offset] != byte { return false }
            offset += 1
        }
        return true
    }

    private lazy var statsSegment: [UInt8] = Array(policy.statsPath.utf8.reversed().prefix { $0 != UInt8(ascii: "/") }.reversed())

    /// The reply, and the name of the counter it adds to (`request.ROUTE.OUTCOME`).
    private func answer(_ request: TrackerRequest) -> (TrackerResponse, String) {
        guard let routed = RoutedPath(path: request.path) else {
            if isStatsPath(request.path) { return stats(request) }
            if let action = ControlAction(path: request.path, secret: controlSecret) { return control(action, request) }
            return (failure(.notFound, status: 404), "request.other.not_found")
        }
        let route = routed.route
        switch route {
        // A private tracker's torrents are the site's business: no page lists them.
        case .statusPage: return policy.tracking == .private ? notFound() : statusPage()
        case .torrentFile: return policy.tracking == .private ? notFound() : torrentFile(request)
        case .announce, .scrape: break
        }
        let name = route == .announce ? "announce" : "scrape"
        guard request.query.count <= policy.maxQueryLength else {
            return (failure(.queryTooLong), "request.\(name).query_too_long")
        }
        do {
            switch route {
            case .announce: return (try announce(request, credential: routed.credential), "request.announce.ok")
            case .scrape: return (try scrape(request, credential: routed.credential), "request.scrape.ok")
            case .statusPage, .torrentFile: preconditionFailure("answered above")
            }
        } catch let refusal as TrackerFailure {
            return (failure(refusal, retryIn: retryIn(after: refusal)), "request.\(name).\(refusal.kind)")
        } catch is MissingClientAddress {
            return (failure(.missingClientAddress, status: 500), "request.\(name).missing_client_address")
        } catch {
            logOnce("database error: \(error)")
            return (failure(.unavailable, status: 503, retryIn: policy.retryInMinutes), "request.\(name).unavailable")
        }
    }

    private func notFound() -> (TrackerResponse, String) {
        (failure(.notFound, status: 404), "request.other.not_found")
    }

    private lazy var controlSecret: [UInt8] = Array(policy.controlSecret.utf8)

    private func announce(_ request: TrackerRequest, credential: ArraySlice<UInt8>?) throws -> TrackerResponse {
        let parsed = try AnnounceRequest(query: request.query)
        switch policy.announceProtocol {
        case .any: break
        case .noPeerID: if !parsed.compact && !parsed.noPeerID { throw TrackerFailure.noPeerIDRequired }
        case .compact: if !parsed.compact { throw TrackerFailure.compactRequired }
        }
        let session = policy.tracking == .private ? try admitPrivate(parsed, credential: credential, query: request.query) : nil
        // Before anything is stored: nothing about a refused torrent or client is kept.
        try checkAccess(parsed.infoHash, parsed.peerID)
        guard let rawAddress = request.remoteAddress, let remote = IPAddress(text: rawAddress) else {
            logOnce("REMOTE_ADDR is missing or unreadable: check the web server's fastcgi_param/CGI setup")
            throw MissingClientAddress()
        }
        let address = policy.clientAddress.clientAddress(remote: remote, headerValue: request.forwardedHeader)
        let peerAddress = policy.clientAddress.peerAddress(client: address, ipParameter: parsed.ipParameter)
        let now = clock()
        let intervals = try intervalsInEffect(now: now)
        let interval = policy.jitteredInterval(intervals.interval, unit: Double(random.next() >> 11) * 0x1p-53)
        let isComplete = parsed.left == 0
        var change = PeerAnnounce(
            infoHash: parsed.infoHash,
            endpoint: PeerEndpoint(address: peerAddress, port: parsed.port),
            peerID: parsed.peerID,
            removes: parsed.event == .stopped,
            isComplete: isComplete,
            isSeeding: isComplete || parsed.event == .paused,
            completes: parsed.event == .completed && isComplete,
            expires: now + Int64(policy.peerTTL(interval: interval)),
            shuffle: UInt32.random(in: .min ... .max, using: &random),
            redrawsShuffle: parsed.event == .started
        )
        change.session = session
        if policy.earlyAnnounce != .allow, parsed.event == .none {
            change.earlyIfAnnouncedAfter = now - Int64(intervals.minInterval)
            change.refusesEarly = policy.earlyAnnounce == .refuse
        }
        // A stopping peer wants no peers (opentracker sends none either).
        let count = parsed.event == .stopped ? 0 : policy.numWant(requested: parsed.numWant)
        let selection = PeerSelection(count: count, start: UInt32.random(in: .min ... .max, using: &random))
        var outcome = try store.announce(change, selection: selection, now: now)
        if policy.decoyPeers > 0 {
            Decoys.add(most: policy.decoyPeers, to: &outcome, limit: count, ipv6: !peerAddress.isIPv4, random: &random)
        }
        var response = AnnounceResponse(
            interval: interval, minInterval: intervals.minInterval, counts: outcome.counts, peers: outcome.peers,
            externalAddress: address)
        if !policy.trackerID.isEmpty { response.trackerID = policy.trackerID }
        if !policy.warningMessage.isEmpty { response.warningMessage = policy.warningMessage }
        if outcome.wasEarly {
            response.warningMessage = "announced too soon: please wait min interval (\(intervals.minInterval) s) between announces"
        }
        var out = BencodeWriter()
        response.encode(compact: parsed.compact, noPeerID: parsed.noPeerID, into: &out)
        return TrackerResponse(status: 200, body: out.bytes)
    }

    private func scrape(_ request: TrackerRequest, credential: ArraySlice<UInt8>?) throws -> TrackerResponse {
        let parsed = try ScrapeRequest(query: request.query, limit: policy.maxScrapeHashes)
        // A private tracker's full list is for the site only (the control endpoint's `swarms`).
        if parsed.infoHashes.isEmpty && policy.tracking == .private { throw TrackerFailure.fullScrapeDisabled }
        guard !parsed.infoHashes.isEmpty else { return try fullScrape(request) }
        // Refused torrents are left out of `files`, as if unknown.
        var served = try parsed.infoHashes.filter { try admits($0) }
        if policy.tracking == .private {
            served = try privateScrapeHashes(served, credential: credential, query: request.query)
        }
        let counts = served.isEmpty ? [] : try store.scrape(served)
        let response = ScrapeResponse(
            files: Array(zip(served, counts)), minRequestInterval: try intervalsInEffect(now: clock()).minInterval)
        var out = BencodeWriter()
        response.encode(into: &out)
        return TrackerResponse(status: 200, body: out.bytes)
    }

    /// Every allowed torrent's counts in one cached document, once per interval per address.
    private func fullScrape(_ request: TrackerRequest) throws -> TrackerResponse {
        guard policy.fullScrape, let fullScrapes else { throw TrackerFailure.fullScrapeDisabled }
        guard let raw = request.remoteAddress, let remote = IPAddress(text: raw) else { throw MissingClientAddress() }
        let address = policy.clientAddress.clientAddress(remote: remote, headerValue: request.forwardedHeader)
        let body: [UInt8]
        do {
            body = try fullScrapes.fullScrape(for: address, gzip: request.acceptsGzip, policy: policy, now: clock())
        } catch let refusal as TrackerFailure where refusal == .fullScrapeThrottled {
            counters?.add("full_scrape.throttled")
            throw refusal
        }
        counters?.add("full_scrape.served")
        counters?.add("full_scrape.bytes", Int64(body.count))
        return TrackerResponse(
            status: 200, body: body, headers: request.acceptsGzip ? [TrackerResponse.Header("Content-Encoding", "gzip")] : [])
    }

    /// The interval and min interval to tell clients: fixed, or adapted to the peer count.
    private func intervalsInEffect(now: Int64) throws -> (interval: Int, minInterval: Int) {
        guard policy.intervalMode == .adaptive else { return (policy.interval, policy.minInterval) }
        if let current = currentIntervals, current.time == now { return (current.interval, current.minInterval) }
        let found = policy.intervals(peers: try store.peerCount())
        currentIntervals = (now, found.interval, found.minInterval)
        return found
    }

    /// Refuses a torrent the access list does not serve, or a client the rules do not admit.
    private func checkAccess(_ infoHash: InfoHash, _ peerID: PeerID) throws {
        guard let accessList else {
            guard policy.access == .open else { throw AccessListMissing() }
            return
        }
        if policy.access != .open, try !admits(infoHash) {
            throw policy.access == .whitelist ? TrackerFailure.unregisteredTorrent : TrackerFailure.bannedTorrent
        }
        let rules = try accessList.clientRules()
        if !rules.isEmpty, !rules.admits(peerID) { throw TrackerFailure.clientNotAllowed }
    }

    /// Whether the access list lets `infoHash` be announced and scraped.
    private func admits(_ infoHash: InfoHash) throws -> Bool {
        switch policy.access {
        case .open: return true
        case .whitelist, .blacklist:
            guard let accessList else { throw AccessListMissing() }
            return try accessList.isListed(infoHash) == (policy.access == .whitelist)
        }
    }

    /// BEP 31 `retry in` for a refusal: soon when the tracker is full, later when a list refused.
    private func retryIn(after refusal: TrackerFailure) -> Int? {
        if refusal == .trackerFull { return policy.retryInMinutes }
        if refusal == .fullScrapeThrottled { return max(1, (policy.fullScrapeIntervalSeconds + 59) / 60) }
        if refusal == .tooEarly { return max(1, (currentIntervals?.minInterval ?? policy.minInterval) / 60) }
        if refusal.isAccessRefusal { return policy.accessRetryInMinutes }
        return nil
    }

    func failure(_ failure: TrackerFailure, status: Int = 200, retryIn: Int? = nil) -> TrackerResponse {
        Tracker.failureResponse(failure, status: status, retryIn: retryIn)
    }

    /// A reply with a bencoded `failure reason` and, if given, BEP 31 `retry in` (minutes); also
    /// for callers that cannot build a `Tracker` at all (a CGI process whose database is gone).
    public static func failureResponse(_ failure: TrackerFailure, status: Int = 200, retryIn: Int? = nil) -> TrackerResponse {
        var out = BencodeWriter(reservingCapacity: 64)
        out.beginDictionary()
        out.key("failure reason")
        out.string(failure.reason)
        if let retryIn {
            out.key("retry in")  // BEP 31, in minutes
            out.integer(retryIn)
        }
        out.end()
        return TrackerResponse(status: status, body: out.bytes)
    }

    /// Answered 500 with `missingClientAddress`: the web server is misconfigured.
    struct MissingClientAddress: Error {}

    /// A closed tracker whose control database cannot be read right now: answered 503, never
    /// served as if open.
    public struct AccessListMissing: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "the control database is not available, so the access list cannot be read" }
    }

    /// Logs a line unless the same one was logged in the last minute, so a database that stays
    /// broken under load produces one line a minute, not one per request.
    func logOnce(_ message: String) {
        let now = clock()
        if let last = lastLogged, last.message == message, now - last.time < 60 { return }
        lastLogged = (message, now)
        log(message)
    }
}
