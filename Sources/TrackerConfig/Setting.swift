import Glibc
import TrackerCore
import TrackerFastCGI

/// One thing an operator can configure, under one name everywhere: `name = value` in the file,
/// `--name value` on the command line, `SHOAL_NAME` in the environment or as a request parameter.
public struct Setting: Sendable {
    public let name: String
    /// What the value looks like, for `--help` and the sample file.
    public let valueName: String
    public let help: String
    /// Whether the web server may set it per request (`fastcgi_param`, `SetEnv`). Settings that
    /// shape the process itself (its socket, its workers) may not.
    public let perRequest: Bool
    /// Parses `value` into the configuration, or says what is wrong with it.
    let apply: @Sendable (inout Configuration, String) -> String?
    /// The value in effect, in the same syntax the file takes.
    let current: @Sendable (Configuration) -> String

    /// `interval-jitter` is `SHOAL_INTERVAL_JITTER`.
    public var environmentName: String {
        "SHOAL_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    public func currentValue(in configuration: Configuration) -> String { current(configuration) }
}

extension Setting {
    /// Every setting, in the order `check-config` and the sample file list them.
    public static let all: [Setting] = [
        Setting(
            name: "database", valueName: "path",
            help: "The SQLite file every responder shares: an absolute path (SQLite URIs are refused). Its "
                + "directory must be writable; use tmpfs (/dev/shm, /run). ':memory:' keeps peers in one process only.",
            perRequest: true,
            apply: { config, value in
                // SQLite reads a name starting with "file:" as a URI, whose parameters can switch
                // off locking (nolock=1 corrupted the database under load) or open another file.
                if value.hasPrefix("file:") {
                    return "SQLite URIs are not accepted (they can switch off locking): give a plain absolute path, e.g. /dev/shm/shoal.db"
                }
                guard value == ":memory:" || value.hasPrefix("/") else {
                    return "give an absolute file path, e.g. /dev/shm/shoal.db"
                }
                config.database = value
                return nil
            },
            current: { $0.database }),
        octalMode(
            "database-mode",
            help: "Permissions of the database files, in octal: 600 (the default) for the responders' user only, "
                + "660 to share with its group. Existing files owned by that user lose any permissions beyond these.",
            ownerMustReadAndWrite: true, get: { $0.databaseMode }, set: { $0.databaseMode = $1 }),
        Setting(
            name: "max-database-size", valueName: "size",
            help: "Database size (bytes of pages in use; K, M, G suffixes) beyond which new peers and torrents "
                + "get a 'tracker is full' failure with retry in, while known peers, stopped and expiry go on. "
                + "About 120 bytes per peer.",
            perRequest: false,
            apply: { config, value in
                guard let bytes = byteCount(value), (1 << 20)...(1 << 40) ~= bytes else {
                    return "use a size from 1M to 1T, e.g. 512M or 2G"
                }
                config.maxDatabaseBytes = bytes
                return nil
            },
            current: { describeByteCount($0.maxDatabaseBytes) }),
        integer(
            "max-peers-per-address", unit: "count", range: 1...100_000, perRequest: false,
            help: "Peers one IP address may have in one torrent; beyond, the entry of that address that would "
                + "expire first is replaced, so many users behind one NAT still work and a flood only evicts itself.",
            get: { $0.maxPeersPerAddress }, set: { $0.maxPeersPerAddress = $1 }),
        Setting(
            name: "request-database-dir", valueName: "directory",
            help: "A directory in which SHOAL_DATABASE request parameters (fastcgi_param, SetEnv) may name "
                + "databases, one per virtual host. Empty (the default): a request may not change the database.",
            perRequest: false,
            apply: { config, value in
                guard value.isEmpty || value.hasPrefix("/") else { return "give an absolute directory path, or nothing" }
                config.requestDatabaseDirectory = value.count > 1 && value.hasSuffix("/") ? String(value.dropLast()) : value
                return nil
            },
            current: { $0.requestDatabaseDirectory }),
        Setting(
            name: "control-database", valueName: "path",
            help: "The SQLite file on disk for what must survive a reboot: the torrent list, client rules and "
                + "completed counts (an absolute path; its directory must exist and be writable by the tracker's "
                + "user). Empty: none, and then access must be open.",
            perRequest: false,
            apply: { config, value in
                guard value.isEmpty || value.hasPrefix("/"), !value.hasPrefix("file:") else {
                    return "give an absolute file path on disk, e.g. /var/lib/shoal/control.db, or nothing"
                }
                config.controlDatabase = value
                return nil
            },
            current: { $0.controlDatabase }),
        choice(
            "access",
            help: "Which torrents are tracked: every one (open), only those on the list (whitelist: shoal torrents "
                + "add), or all but those on it (blacklist). Changes to the list are live on the next request.",
            get: { $0.policy.access }, set: { $0.policy.access = $1 }),
        integer(
            "access-retry-in", unit: "minutes", range: 1...100_000,
            help: "BEP 31 'retry in' sent with refusals by the torrent list or the client rules.",
            get: { $0.policy.accessRetryInMinutes }, set: { $0.policy.accessRetryInMinutes = $1 }),
        integer(
            "counts-save-interval", unit: "seconds", range: 10...3600, perRequest: false,
            help: "How often the completed counts are copied from the peers database to the control database; "
                + "a reboot loses at most this much of them.",
            get: { $0.countsSaveInterval }, set: { $0.countsSaveInterval = $1 }),
        integer(
            // Below about 100 ms, ordinary contention (a checkpoint, a turn changing hands on a
            // loaded machine) already answers 503: 0 gave 2–15% of announces a 503 on a healthy system.
            "busy-timeout", unit: "milliseconds", range: 100...60_000,
            help: "How long a request waits for another process's database lock before answering 503; also the longest wait for a worker's turn.",
            get: { $0.busyTimeoutMilliseconds }, set: { $0.busyTimeoutMilliseconds = $1 }),
        integer(
            "interval", unit: "seconds", range: 1...86_400,
            help: "Seconds between announces that clients are told (BEP 3 'interval').",
            get: { $0.policy.interval }, set: { $0.policy.interval = $1 }),
        decimal(
            "interval-jitter", range: 0...0.5,
            help: "Random spread of each interval, as a fraction of it, so clients do not announce in lockstep.",
            get: { $0.policy.intervalJitter }, set: { $0.policy.intervalJitter = $1 }),
        integer(
            "min-interval", unit: "seconds", range: 0...86_400,
            help: "The 'min interval' clients are asked to respect; at most the interval. Default: half the interval.",
            get: { $0.policy.minInterval }, set: { $0.policy.minInterval = $1 }),
        choice(
            "interval-mode",
            help: "fixed: clients are told interval. adaptive: the interval is the live peer count divided by "
                + "target-announce-rate, within interval-min and interval-max, so the load stays near the target; "
                + "min interval keeps its ratio to it.",
            get: { $0.policy.intervalMode }, set: { $0.policy.intervalMode = $1 }),
        decimal(
            "target-announce-rate", range: 0.01...1_000_000,
            help: "Announces per second the adaptive interval aims at (interval-mode = adaptive).",
            get: { $0.policy.targetAnnounceRate }, set: { $0.policy.targetAnnounceRate = $1 }),
        integer(
            "interval-min", unit: "seconds", range: 300...86_400,
            help: "The shortest adaptive interval (never below 5 minutes).",
            get: { $0.policy.intervalMin }, set: { $0.policy.intervalMin = $1 }),
        integer(
            "interval-max", unit: "seconds", range: 300...86_400,
            help: "The longest adaptive interval.",
            get: { $0.policy.intervalMax }, set: { $0.policy.intervalMax = $1 }),
        choice(
            "early-announce",
            help: "A regular re-announce before min interval has passed: answered (allow), answered with a "
                + "warning message (warn), or refused with retry in (refuse). started, completed and stopped "
                + "are never refused.",
            get: { $0.policy.earlyAnnounce }, set: { $0.policy.earlyAnnounce = $1 }),
        decimal(
            "peer-ttl-factor", range: 1...100,
            help: "A peer silent for interval x this factor is no longer handed out, and is purged.",
            get: { $0.policy.peerTTLFactor }, set: { $0.policy.peerTTLFactor = $1 }),
        integer(
            "default-numwant", unit: "count", range: 0...10_000,
            help: "Peers sent when the client gives no numwant; at most max-numwant.",
            get: { $0.policy.defaultNumWant }, set: { $0.policy.defaultNumWant = $1 }),
        integer(
            "max-numwant", unit: "count", range: 0...10_000,
            help: "The most peers sent in one reply, whatever the client asks.",
            get: { $0.policy.maxNumWant }, set: { $0.policy.maxNumWant = $1 }),
        integer(
            "max-scrape-hashes", unit: "count", range: 1...1_000,
            help: "The most info_hash values one scrape may ask for.",
            get: { $0.policy.maxScrapeHashes }, set: { $0.policy.maxScrapeHashes = $1 }),
        Setting(
            name: "trusted-proxies", valueName: "networks",
            help: "Proxies (CIDR, comma-separated, IPv4 or IPv6) whose client-address-header is believed. "
                + "Empty (the default): REMOTE_ADDR is the client.",
            perRequest: true,
            apply: { config, value in
                switch Setting.networks(value) {
                case .success(let networks): config.policy.clientAddress.trustedProxies = networks
                case .failure(let problem): return problem.text
                }
                return nil
            },
            current: { $0.policy.clientAddress.trustedProxies.map(\.description).joined(separator: ", ") }),
        Setting(
            name: "client-address-header", valueName: "header",
            help: "The header trusted proxies name the client in: "
                + ForwardedHeader.allCases.map(\.rawValue).joined(separator: ", ")
                + ". For X-Forwarded-For the right-most untrusted address is the client.",
            perRequest: true,
            apply: { config, value in
                guard let header = ForwardedHeader(rawValue: value.lowercased()) else {
                    return "use one of " + ForwardedHeader.allCases.map(\.rawValue).joined(separator: ", ")
                }
                config.policy.clientAddress.header = header
                return nil
            },
            current: { $0.policy.clientAddress.header.rawValue }),
        boolean(
            "allow-ip-parameter",
            help: "Honour the announce 'ip' parameter, and only from trusted proxies or local networks "
                + "(loopback, RFC 1918, ULA, link-local).",
            get: { $0.policy.clientAddress.allowsIPParameter }, set: { $0.policy.clientAddress.allowsIPParameter = $1 }),
        boolean(
            "status-page",
            help: "Serve an HTML status page at the tracker's root (/ under its prefix): totals and the busiest "
                + "torrents with their names when known.",
            get: { $0.policy.statusPage }, set: { $0.policy.statusPage = $1 }),
        boolean(
            "serve-torrents",
            help: "Serve registered .torrent files at file?info_hash=… (never in access = blacklist); the status "
                + "page links them.",
            get: { $0.policy.serveTorrents }, set: { $0.policy.serveTorrents = $1 }),
        boolean(
            "full-scrape",
            help: "Answer /scrape without info_hash with every torrent the access list allows: one cached copy "
                + "all responders share, gzipped when the client accepts it, once per full-scrape-interval per address.",
            get: { $0.policy.fullScrape }, set: { $0.policy.fullScrape = $1 }),
        integer(
            "full-scrape-cache", unit: "seconds", range: 1...86_400,
            help: "How old the shared full scrape may get before one responder makes a new one (meanwhile the "
                + "old one is served).",
            get: { $0.policy.fullScrapeCacheSeconds }, set: { $0.policy.fullScrapeCacheSeconds = $1 }),
        integer(
            "full-scrape-interval", unit: "seconds", range: 0...86_400,
            help: "Seconds one client address must wait between two full scrapes; sooner gets a failure with retry in.",
            get: { $0.policy.fullScrapeIntervalSeconds }, set: { $0.policy.fullScrapeIntervalSeconds = $1 }),
        integer(
            "decoy-peers", unit: "count", range: 0...20,
            help: "Mix up to this many random made-up peers into each announce reply that has real ones, for "
                + "plausible deniability (opentracker, chihaya). Their addresses are random, may belong to anyone, "
                + "and clients will try them. 0 (the default): off.",
            get: { $0.policy.decoyPeers }, set: { $0.policy.decoyPeers = $1 }),
        Setting(
            name: "warning-message", valueName: "text",
            help: "A 'warning message' added to every announce reply (clients show it; the announce still works), "
                + "e.g. 'this tracker moves to https://… on 1 May'. Empty: none.",
            perRequest: true,
            apply: { config, value in
                guard value.utf8.count <= 512 else { return "keep it under 512 bytes" }
                config.policy.warningMessage = value
                return nil
            },
            current: { $0.policy.warningMessage }),
        Setting(
            name: "tracker-id", valueName: "text",
            help: "A 'tracker id' sent in every announce reply, which clients send back as trackerid. Empty: none.",
            perRequest: true,
            apply: { config, value in
                guard value.utf8.count <= 64, value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                    return "use up to 64 printable ASCII characters"
                }
                config.policy.trackerID = value
                return nil
            },
            current: { $0.policy.trackerID }),
        choice(
            "announce-protocol",
            help: "The oldest announce form answered: any; no_peer_id (compact=1 or no_peer_id=1); compact "
                + "(compact=1 only). Others get a failure reason that names the form required.",
            get: { $0.policy.announceProtocol }, set: { $0.policy.announceProtocol = $1 }),
        Setting(
            name: "stats-path", valueName: "path",
            help: "Where statistics are served (its last segment counts, like /announce's): Prometheus text, "
                + "?format=json, or opentracker's ?mode=peer|conn|scrp|torr|fscr|completed|busy|top100|version|everything.",
            perRequest: true,
            apply: { config, value in
                let segment = value.split(separator: "/").last.map(String.init) ?? ""
                guard value.hasPrefix("/"), !segment.isEmpty, !["announce", "scrape", "announce.php", "scrape.php"].contains(segment)
                else { return "give a path like /stats whose last part is not announce or scrape" }
                config.policy.statsPath = value
                return nil
            },
            current: { $0.policy.statsPath }),
        networkList(
            "stats-allow",
            help: "Networks (CIDR, comma-separated) that may read the statistics without the token; empty: none.",
            get: { $0.policy.statsAllow }, set: { $0.policy.statsAllow = $1 }),
        Setting(
            name: "stats-token", valueName: "secret",
            help: "A secret that also opens the statistics, as ?token= or 'Authorization: Bearer'; empty (the default): "
                + "only stats-allow networks. At least 16 characters.",
            perRequest: true,
            apply: { config, value in
                guard value.isEmpty || (value.count >= 16 && value.allSatisfy { $0.isASCII && !$0.isWhitespace }) else {
                    return "use at least 16 printable ASCII characters, or nothing"
                }
                config.policy.statsToken = value
                return nil
            },
            current: { $0.policy.statsToken.isEmpty ? "" : "(set)" }),
        Setting(
            name: "stats-denied", valueName: "403|404",
            help: "What others get from the statistics path: 403, or 404 to hide that it exists.",
            perRequest: true,
            apply: { config, value in
                guard let status = Int(value), status == 403 || status == 404 else { return "use 403 or 404" }
                config.policy.statsDeniedStatus = status
                return nil
            },
            current: { String($0.policy.statsDeniedStatus) }),
        Setting(
            name: "listen", valueName: "address",
            help: "Where to listen (shoal serve): unix:/path/to.sock, 127.0.0.1:9000, [::1]:9000 or :9000.",
            perRequest: false,
            apply: { config, value in
                guard let address = ListenAddress(value) else {
                    return "use unix:/path, host:port, [ipv6]:port or :port"
                }
                config.listen = address
                return nil
            },
            current: { $0.listen.description }),
        Setting(
            name: "workers", valueName: "count",
            help: "Worker processes (shoal serve); 'auto' (the default) is one per CPU core, at least 2.",
            perRequest: false,
            apply: { config, value in
                if value == "auto" {
                    config.workers = nil
                    return nil
                }
                guard let count = Int(value), (1...1024).contains(count) else {
                    return "use a whole number from 1 to 1024, or auto"
                }
                config.workers = count
                return nil
            },
            current: { $0.workers.map(String.init) ?? "auto" }),
        octalMode(
            "socket-mode",
            help: "Permissions of the Unix socket file (shoal serve), in octal; the web server must be able "
                + "to connect (see socket-group).",
            ownerMustReadAndWrite: false, get: { $0.socketMode }, set: { $0.socketMode = $1 }),
        Setting(
            name: "socket-group", valueName: "group",
            help: "The group of the Unix socket file (shoal serve), e.g. www-data: the web server's group, "
                + "so that with socket-mode 660 it can connect and other local users cannot. Empty: the process's group.",
            perRequest: false,
            apply: { config, value in
                guard value.isEmpty || Setting.groupID(value) != nil else {
                    return "no such group: give the web server's group, e.g. www-data"
                }
                config.socketGroup = value
                return nil
            },
            current: { $0.socketGroup }),
    ] + privateTracking

    public static func named(_ name: String) -> Setting? { all.first { $0.name == name } }

    struct Problem: Error { let text: String }

    /// Networks from a comma- or space-separated list of addresses and CIDR networks.
    static func networks(_ value: String) -> Result<[IPNetwork], Problem> {
        var networks: [IPNetwork] = []
        for item in value.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            guard let network = IPNetwork(String(item)) else {
                return .failure(Problem(text: "'\(item)' is not an address or CIDR network like 10.0.0.0/8 or fd00::/8 "
                    + "(host bits must be zero)"))
            }
            networks.append(network)
        }
        return .success(networks)
    }

    /// The group ID of a group name or number, if such a group exists.
    public static func groupID(_ group: String) -> gid_t? {
        if let number = gid_t(group) { return number }
        return getgrnam(group).map { $0.pointee.gr_gid }
    }

    /// The `--help` text for a setting's command-line option.
    public static func help(_ name: String) -> String {
        guard let setting = named(name) else { preconditionFailure("no setting named \(name)") }
        return "\(setting.help) (\(setting.environmentName))"
    }

    /// Octal permissions of a file Shoal creates; set per process, never per request.
    private static func octalMode(
        _ name: String, help: String, ownerMustReadAndWrite: Bool,
        get: @escaping @Sendable (Configuration) -> UInt32, set: @escaping @Sendable (inout Configuration, UInt32) -> Void
    ) -> Setting {
        Setting(
            name: name, valueName: "mode", help: help, perRequest: false,
            apply: { config, value in
                guard let mode = UInt32(value, radix: 8), mode <= 0o777, !ownerMustReadAndWrite || mode & 0o600 == 0o600
                else {
                    return ownerMustReadAndWrite
                        ? "use octal permissions that let the owner read and write, like 600 or 660"
                        : "use octal permissions like 660"
                }
                set(&config, mode)
                return nil
            },
            current: { String(get($0), radix: 8) })
    }

    /// One of an enumeration's names, per request.
    static func choice<Value: CaseIterable & RawRepresentable & Sendable>(
        _ name: String, help: String,
        get: @escaping @Sendable (Configuration) -> Value, set: @escaping @Sendable (inout Configuration, Value) -> Void
    ) -> Setting where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue)
        return Setting(
            name: name, valueName: names.joined(separator: "|"), help: help, perRequest: true,
            apply: { config, value in
                guard let chosen = Value(rawValue: value.lowercased()) else {
                    return "use " + names.dropLast().joined(separator: ", ") + " or " + names.last!
                }
                set(&config, chosen)
                return nil
            },
            current: { get($0).rawValue })
    }

    static func integer(
        _ name: String, unit: String, range: ClosedRange<Int>, perRequest: Bool = true, help: String,
        get: @escaping @Sendable (Configuration) -> Int, set: @escaping @Sendable (inout Configuration, Int) -> Void
    ) -> Setting {
        number(
            name, valueName: unit, range: range, problem: "use a whole number of \(unit)", perRequest: perRequest,
            help: help, get: get, set: set)
    }

    private static func decimal(
        _ name: String, range: ClosedRange<Double>, help: String,
        get: @escaping @Sendable (Configuration) -> Double, set: @escaping @Sendable (inout Configuration, Double) -> Void
    ) -> Setting {
        number(name, valueName: "number", range: range, problem: "use a number", help: help, get: get, set: set)
    }

    /// A numeric setting: parsed with `Value(text)`, refused outside `range`.
    static func number<Value: LosslessStringConvertible & Comparable & Sendable>(
        _ name: String, valueName: String, range: ClosedRange<Value>, problem: String, perRequest: Bool = true,
        help: String,
        get: @escaping @Sendable (Configuration) -> Value, set: @escaping @Sendable (inout Configuration, Value) -> Void
    ) -> Setting {
        Setting(
            name: name, valueName: valueName, help: help, perRequest: perRequest,
            apply: { config, value in
                guard let parsed = Value(value), range.contains(parsed) else {
                    return "\(problem) from \(range.lowerBound) to \(range.upperBound)"
                }
                set(&config, parsed)
                return nil
            },
            current: { String(describing: get($0)) })
    }

    /// CIDR networks, comma-separated (per request too).
    static func networkList(
        _ name: String, help: String, get: @escaping @Sendable (Configuration) -> [IPNetwork],
        set: @escaping @Sendable (inout Configuration, [IPNetwork]) -> Void
    ) -> Setting {
        Setting(
            name: name, valueName: "networks", help: help, perRequest: true,
            apply: { config, value in
                switch Setting.networks(value) {
                case .success(let networks): set(&config, networks)
                case .failure(let problem): return problem.text
                }
                return nil
            },
            current: { get($0).map(\.description).joined(separator: ", ") })
    }

    static func boolean(
        _ name: String, help: String,
        get: @escaping @Sendable (Configuration) -> Bool, set: @escaping @Sendable (inout Configuration, Bool) -> Void
    ) -> Setting {
        Setting(
            name: name, valueName: "yes|no", help: help, perRequest: true,
            apply: { config, value in
                switch value.lowercased() {
                case "yes", "true", "on", "1": set(&config, true)
                case "no", "false", "off", "0": set(&config, false)
                default: return "use yes or no"
                }
                return nil
            },
            current: { get($0) ? "yes" : "no" })
    }
}

/// Bytes from `512M`, `2G`, `1048576` (K, M, G and T are powers of 1024).
func byteCount(_ text: String) -> Int64? {
    let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    guard let last = text.uppercased().last else { return nil }
    if let unit = units[last] {
        guard let number = Int64(text.dropLast()), number >= 0, number <= Int64.max / unit else { return nil }
        return number * unit
    }
    return Int64(text)
}

/// The shortest exact spelling of a byte count that `byteCount` reads back.
func describeByteCount(_ bytes: Int64) -> String {
    for (suffix, unit) in [("T", Int64(1) << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]
    where bytes >= unit && bytes % unit == 0 {
        return "\(bytes / unit)\(suffix)"
    }
    return String(bytes)
}
