/// How the announce interval is chosen: always `interval`, or from the live peer count so that the
/// announce rate stays near a target (WhitSoft's idea).
public enum IntervalMode: String, CaseIterable, Sendable {
    case fixed, adaptive
}

/// What to do with a regular re-announce that comes before `min interval` has passed.
public enum EarlyAnnounce: String, CaseIterable, Sendable {
    case allow, warn, refuse
}

/// Which announce forms a tracker answers: any, only those that leave peer IDs out (compact or
/// `no_peer_id=1`), or only compact ones (BEP 23). Older forms cost more bytes per reply.
public enum AnnounceProtocol: String, CaseIterable, Sendable {
    case any
    case noPeerID = "no_peer_id"
    case compact
}

/// The operator's knobs for how clients are told to behave and how much they are given.
///
/// Every value here is validated by `validate()` before the tracker starts serving.
public struct Policy: Equatable, Sendable {
    /// Seconds between regular announces (BEP 3 `interval`); each reply adds a random jitter.
    public var interval: Int = 1800
    /// The jitter, as a fraction of `interval`, spread evenly above and below it, so that
    /// clients that started together do not re-announce in lockstep.
    public var intervalJitter: Double = 0.1
    /// The `min interval` clients are asked to respect.
    public var minInterval: Int = 900
    /// `adaptive`: the interval is the live peer count divided by `targetAnnounceRate`, within
    /// `intervalMin`…`intervalMax`; `min interval` keeps its ratio to it.
    public var intervalMode: IntervalMode = .fixed
    /// Announces per second the adaptive interval aims at.
    public var targetAnnounceRate: Double = 100
    public var intervalMin: Int = 900
    public var intervalMax: Int = 10_800
    /// Regular re-announces before `min interval`: answered, answered with a warning, or refused.
    public var earlyAnnounce: EarlyAnnounce = .allow
    /// A peer not heard from for `interval × peerTTLFactor` seconds is no longer handed out.
    public var peerTTLFactor: Double = 1.5
    /// Peers sent when the client gives no `numwant`.
    public var defaultNumWant: Int = 50
    /// The most peers sent in one reply, whatever the client asks for.
    public var maxNumWant: Int = 200
    /// The most distinct `info_hash` values in one scrape.
    public var maxScrapeHashes: Int = 64
    /// Longer query strings are refused before any parsing.
    public var maxQueryLength: Int = 8192
    /// BEP 31 `retry in` (minutes) sent with 503 replies when the database cannot be used.
    public var retryInMinutes: Int = 1
    /// Which torrents are served: all, the listed ones, or all but the listed ones.
    public var access: AccessMode = .open
    /// BEP 31 `retry in` (minutes) sent with refusals by the torrent list or the client rules.
    public var accessRetryInMinutes: Int = 60
    /// BEP 3 `warning message` added to every announce reply (an operator's notice); empty: none.
    public var warningMessage: String = ""
    /// BEP 3 `tracker id` sent in every announce reply; empty: none.
    public var trackerID: String = ""
    /// The oldest announce form accepted (WhitSoft's required protocol).
    public var announceProtocol: AnnounceProtocol = .any
    /// `/scrape` without `info_hash` answers for every torrent the access list allows.
    public var fullScrape = false
    /// Seconds a generated full scrape is served before it is made again (in the background).
    public var fullScrapeCacheSeconds = 300
    /// Seconds one client address must wait between two full scrapes.
    public var fullScrapeIntervalSeconds = 600
    /// The tracker's root (`/` under its prefix) serves the status page.
    public var statusPage = false
    /// `file?info_hash=` serves registered .torrent files.
    public var serveTorrents = false
    /// Up to this many random made-up peers mixed into each announce reply (see `Decoys`); 0: off.
    public var decoyPeers = 0
    /// The path /stats answers on (its last segment counts, like /announce's).
    public var statsPath: String = "/stats"
    /// Networks allowed to read /stats without the token.
    public var statsAllow: [IPNetwork] = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]
    /// A secret that also opens /stats (`?token=` or `Authorization: Bearer`); empty: none.
    public var statsToken: String = ""
    /// The status /stats answers anyone else with: 403, or 404 to hide it.
    public var statsDeniedStatus: Int = 403
    /// Public, or private: announces need a credential the site issued and are accounted.
    public var tracking: Tracking = .public
    /// The path segment that opens the site's control endpoint; empty: no endpoint.
    public var controlSecret: String = ""
    /// Networks the control endpoint answers (with the secret); anyone else gets 403.
    public var controlAllow: [IPNetwork] = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!]
    /// Private tracking: bytes per second up or down above which a ledger row is flagged `rate`.
    public var implausibleRate: Int64 = 1 << 30
    /// Trusted proxies, their header, and the `ip` parameter.
    public var clientAddress = ClientAddressPolicy()

    public init() {}

    /// The peers to send: the client's `numwant` (or the default), never above the cap.
    public func numWant(requested: Int?) -> Int {
        min(requested ?? defaultNumWant, maxNumWant)
    }

    /// `base` (the interval in effect) with jitter, from a uniform random draw `unit` in [0, 1).
    public func jitteredInterval(_ base: Int? = nil, unit: Double) -> Int {
        let base = base ?? interval
        let spread = Double(base) * intervalJitter
        return max(1, base + Int((unit * 2 - 1) * spread))
    }

    /// The interval and min interval in effect with `peers` live peers.
    public func intervals(peers: Int) -> (interval: Int, minInterval: Int) {
        guard intervalMode == .adaptive else { return (interval, minInterval) }
        let wanted = Double(peers) / targetAnnounceRate
        let adapted = wanted >= Double(intervalMax) ? intervalMax : max(intervalMin, Int(wanted.rounded()))
        return (adapted, Int((Double(adapted) * Double(minInterval) / Double(interval)).rounded()))
    }

    /// How long a peer that was just told to come back in `interval` seconds stays listed.
    public func peerTTL(interval: Int) -> Int { Int((Double(interval) * peerTTLFactor).rounded(.up)) }

    static func isSecretByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Names the first setting that makes no sense (by its configuration name), with what would fix it.
    public func validate() -> String? {
        if interval < 1 { return "interval must be at least 1 second (got \(interval))" }
        if !(0...0.5).contains(intervalJitter) { return "interval-jitter must be between 0 and 0.5 (got \(intervalJitter))" }
        if minInterval < 0 || minInterval > interval {
            return "min-interval must be between 0 and interval \(interval) (got \(minInterval))"
        }
        if !(peerTTLFactor >= 1) || peerTTLFactor > 100 { return "peer-ttl-factor must be between 1 and 100 (got \(peerTTLFactor))" }
        if maxNumWant < 0 { return "max-numwant must not be negative (got \(maxNumWant))" }
        if defaultNumWant < 0 || defaultNumWant > maxNumWant {
            return "default-numwant must be between 0 and max-numwant \(maxNumWant) (got \(defaultNumWant))"
        }
        if intervalMode == .adaptive {
            if intervalMin < 300 { return "interval-min must be at least 300 seconds (got \(intervalMin))" }
            if intervalMax < intervalMin { return "interval-max must be at least interval-min \(intervalMin) (got \(intervalMax))" }
            if !(targetAnnounceRate > 0) { return "target-announce-rate must be above 0 (got \(targetAnnounceRate))" }
        }
        if maxScrapeHashes < 1 { return "max-scrape-hashes must be at least 1 (got \(maxScrapeHashes))" }
        if !controlSecret.isEmpty, controlSecret.utf8.count < 16 || !controlSecret.utf8.allSatisfy(Self.isSecretByte) {
            return "control-secret must be at least 16 characters A-Z, a-z, 0-9, - or _ (it is a path segment)"
        }
        if implausibleRate < 0 { return "implausible-rate must not be negative (got \(implausibleRate))" }
        if maxQueryLength < 256 { return "max query length must be at least 256 bytes (got \(maxQueryLength))" }
        return nil
    }
}
