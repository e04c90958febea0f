import ArgumentParser
import Glibc
import TrackerConfig

/// The options every command shares: the configuration file and every per-request setting.
///
/// Values stay strings here so that the command line, the file and the environment are parsed and
/// checked by the same code (`Setting`), with the same one-line errors. They are parsed
/// `.unconditional`ly, so that `--interval -5` reaches that check (one line, exit 78) instead of
/// the argument parser taking `-5` for an option.
struct TrackerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "A configuration file of 'name = value' lines (see shoal.conf.sample). Also SHOAL_CONFIG.",
        valueName: "path"))
    var config: String?

    @Option(parsing: .unconditional, help: help("database")) var database: String?
    @Option(parsing: .unconditional, help: help("database-mode")) var databaseMode: String?
    @Option(parsing: .unconditional, help: help("request-database-dir")) var requestDatabaseDir: String?
    @Option(parsing: .unconditional, help: help("max-database-size")) var maxDatabaseSize: String?
    @Option(parsing: .unconditional, help: help("max-peers-per-address")) var maxPeersPerAddress: String?
    @Option(parsing: .unconditional, help: help("control-database")) var controlDatabase: String?
    @Option(parsing: .unconditional, help: help("access")) var access: String?
    @Option(parsing: .unconditional, help: help("access-retry-in")) var accessRetryIn: String?
    @Option(parsing: .unconditional, help: help("counts-save-interval")) var countsSaveInterval: String?
    @Option(parsing: .unconditional, help: help("busy-timeout")) var busyTimeout: String?
    @Option(parsing: .unconditional, help: help("interval")) var interval: String?
    @Option(parsing: .unconditional, help: help("interval-jitter")) var intervalJitter: String?
    @Option(parsing: .unconditional, help: help("min-interval")) var minInterval: String?
    @Option(parsing: .unconditional, help: help("peer-ttl-factor")) var peerTTLFactor: String?
    @Option(parsing: .unconditional, help: help("interval-mode")) var intervalMode: String?
    @Option(parsing: .unconditional, help: help("target-announce-rate")) var targetAnnounceRate: String?
    @Option(parsing: .unconditional, help: help("interval-min")) var intervalMin: String?
    @Option(parsing: .unconditional, help: help("interval-max")) var intervalMax: String?
    @Option(parsing: .unconditional, help: help("early-announce")) var earlyAnnounce: String?
    @Option(name: .customLong("default-numwant"), parsing: .unconditional, help: help("default-numwant")) var defaultNumWant: String?
    @Option(name: .customLong("max-numwant"), parsing: .unconditional, help: help("max-numwant")) var maxNumWant: String?
    @Option(parsing: .unconditional, help: help("max-scrape-hashes")) var maxScrapeHashes: String?
    @Option(parsing: .unconditional, help: help("status-page")) var statusPage: String?
    @Option(parsing: .unconditional, help: help("serve-torrents")) var serveTorrents: String?
    @Option(parsing: .unconditional, help: help("full-scrape")) var fullScrape: String?
    @Option(parsing: .unconditional, help: help("full-scrape-cache")) var fullScrapeCache: String?
    @Option(parsing: .unconditional, help: help("full-scrape-interval")) var fullScrapeInterval: String?
    @Option(parsing: .unconditional, help: help("decoy-peers")) var decoyPeers: String?
    @Option(parsing: .unconditional, help: help("warning-message")) var warningMessage: String?
    @Option(name: .customLong("tracker-id"), parsing: .unconditional, help: help("tracker-id")) var trackerID: String?
    @Option(parsing: .unconditional, help: help("announce-protocol")) var announceProtocol: String?
    @Option(parsing: .unconditional, help: help("stats-path")) var statsPath: String?
    @Option(parsing: .unconditional, help: help("stats-allow")) var statsAllow: String?
    @Option(parsing: .unconditional, help: help("stats-token")) var statsToken: String?
    @Option(parsing: .unconditional, help: help("stats-denied")) var statsDenied: String?
    @Option(parsing: .unconditional, help: help("trusted-proxies")) var trustedProxies: String?
    @Option(parsing: .unconditional, help: help("client-address-header")) var clientAddressHeader: String?
    @Option(name: .customLong("allow-ip-parameter"), parsing: .unconditional, help: help("allow-ip-parameter")) var allowIPParameter: String?
    @Option(parsing: .unconditional, help: help("tracking")) var tracking: String?
    @Option(parsing: .unconditional, help: help("secret")) var secret: String?
    @Option(parsing: .unconditional, help: help("previous-secret")) var previousSecret: String?
    @Option(parsing: .unconditional, help: help("control-secret")) var controlSecret: String?
    @Option(parsing: .unconditional, help: help("control-allow")) var controlAllow: String?
    @Option(parsing: .unconditional, help: help("implausible-rate")) var implausibleRate: String?
    @Option(parsing: .unconditional, help: help("session-days")) var sessionDays: String?
    @Option(parsing: .unconditional, help: help("ledger-max-rows")) var ledgerMaxRows: String?

    /// (setting name, value) for every option given.
    var commandLineSettings: [(name: String, value: String)] {
        let given: [(String, String?)] = [
            ("database", database), ("database-mode", databaseMode), ("request-database-dir", requestDatabaseDir),
            ("max-database-size", maxDatabaseSize), ("max-peers-per-address", maxPeersPerAddress),
            ("control-database", controlDatabase), ("access", access), ("access-retry-in", accessRetryIn),
            ("counts-save-interval", countsSaveInterval), ("busy-timeout", busyTimeout), ("interval", interval),
            ("interval-jitter", intervalJitter), ("min-interval", minInterval), ("peer-ttl-factor", peerTTLFactor),
            ("interval-mode", intervalMode), ("target-announce-rate", targetAnnounceRate), ("interval-min", intervalMin),
            ("interval-max", intervalMax), ("early-announce", earlyAnnounce),
            ("default-numwant", defaultNumWant), ("max-numwant", maxNumWant), ("max-scrape-hashes", maxScrapeHashes),
            ("trusted-proxies", trustedProxies), ("client-address-header", clientAddressHeader),
            ("allow-ip-parameter", allowIPParameter), ("status-page", statusPage), ("serve-torrents", serveTorrents),
            ("full-scrape", fullScrape), ("full-scrape-cache", fullScrapeCache),
            ("full-scrape-interval", fullScrapeInterval), ("decoy-peers", decoyPeers), ("warning-message", warningMessage), ("tracker-id", trackerID),
            ("announce-protocol", announceProtocol), ("stats-path", statsPath), ("stats-allow", statsAllow),
            ("stats-token", statsToken), ("stats-denied", statsDenied), ("tracking", tracking), ("secret", secret),
            ("previous-secret", previousSecret), ("control-secret", controlSecret), ("control-allow", controlAllow),
            ("implausible-rate", implausibleRate), ("session-days", sessionDays), ("ledger-max-rows", ledgerMaxRows),
        ]
        return given.compactMap { name, value in value.map { (name, $0) } }
    }

    /// Layers file, environment and command line (plus `extra` options of one command), or stops
    /// with one line naming the bad setting. Warnings go to the log.
    func resolve(extra: [(name: String, value: String)] = []) throws -> ResolvedConfiguration {
        do {
            let resolved = try ConfigurationLoader.load(
                commandLine: commandLineSettings + extra, configFile: config, environment: processEnvironment())
            resolved.warnings.forEach(logLine)
            return resolved
        } catch {
            logLine("configuration: \(error)")
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}

/// `--help` for a setting's option, from the one description every source shares.
func help(_ name: String) -> ArgumentHelp {
    ArgumentHelp(Setting.help(name), valueName: Setting.named(name)!.valueName)
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var cursor = environ
    while let entry = cursor.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        cursor += 1
    }
    return result
}
