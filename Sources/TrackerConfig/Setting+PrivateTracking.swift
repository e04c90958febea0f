import TrackerCore

extension Setting {
    /// Private tracking's settings: who may announce, the site's control endpoint, the ledger.
    static let privateTracking: [Setting] = [
        choice(
            "tracking",
            help: "public: anyone may announce. private: an announce needs a token or passkey the site issued "
                + "(/<credential>/announce), is checked against the site's bans and deletions, and is credited "
                + "to its user in the ledger the site drains. Needs secret and a control-database.",
            get: { $0.policy.tracking }, set: { $0.policy.tracking = $1 }),
        secretSetting(
            "secret",
            help: "Private tracking: the secret the site mints per-torrent tokens with (HMAC-SHA256), at least 32 "
                + "characters; keep it out of world-readable files. Generate one: openssl rand -hex 32.",
            set: { $0.secret = $1 }, isSet: { !$0.secret.isEmpty }),
        secretSetting(
            "previous-secret",
            help: "Private tracking: the secret before the current one, still accepted while a rotation is under "
                + "way; empty: none.",
            set: { $0.previousSecret = $1 }, isSet: { !$0.previousSecret.isEmpty }),
        Setting(
            name: "control-secret", valueName: "secret",
            help: "The path segment that opens the site's control endpoint (/<control-secret>/ledger, "
                + ".../site/<table>): at least 16 characters A-Z, a-z, 0-9, - or _. Empty (the default): no endpoint.",
            perRequest: true,
            apply: { config, value in
                config.policy.controlSecret = value
                return nil
            },
            current: { $0.policy.controlSecret.isEmpty ? "" : "(set)" }),
        networkList(
            "control-allow",
            help: "Networks (CIDR, comma-separated) that may use the control endpoint, with the secret; others get 403.",
            get: { $0.policy.controlAllow }, set: { $0.policy.controlAllow = $1 }),
        number(
            "implausible-rate", valueName: "bytes/second", range: Int64(0)...Int64(1) << 50,
            problem: "use a whole number of bytes per second", perRequest: true,
            help: "Private tracking: a ledger row whose upload or download went faster than this is flagged 'rate' "
                + "for the site's cheat review (0: never).",
            get: { $0.policy.implausibleRate }, set: { $0.policy.implausibleRate = $1 }),
        integer(
            "session-days", unit: "days", range: 1...3650, perRequest: false,
            help: "Private tracking: days a client's session outlives its last announce; then it ends with an "
                + "'expired' ledger row.",
            get: { $0.sessionDays }, set: { $0.sessionDays = $1 }),
        integer(
            "ledger-max-rows", unit: "rows", range: 1000...1_000_000_000, perRequest: false,
            help: "Private tracking: ledger rows kept for the site to drain. At the cap no row is lost: credit waits "
                + "in the sessions and is written once the site has drained. /stats shows the backlog.",
            get: { $0.ledgerMaxRows }, set: { $0.ledgerMaxRows = $1 }),
    ]

    /// A secret: at least 32 printable ASCII characters (or nothing), shown only as "(set)".
    private static func secretSetting(
        _ name: String, help: String, set: @escaping @Sendable (inout Configuration, String) -> Void,
        isSet: @escaping @Sendable (Configuration) -> Bool
    ) -> Setting {
        Setting(
            name: name, valueName: "secret", help: help, perRequest: true,
            apply: { config, value in
                guard value.isEmpty || (value.utf8.count >= 32 && value.allSatisfy { $0.isASCII && !$0.isWhitespace }) else {
                    return "use at least 32 printable ASCII characters (openssl rand -hex 32), or nothing"
                }
                set(&config, value)
                return nil
            },
            current: { isSet($0) ? "(set)" : "" })
    }
}
