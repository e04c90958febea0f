import TrackerCore
import TrackerFastCGI

/// Everything an operator can set, with its default. Filled from the sources `ConfigurationLoader`
/// layers; every field is validated before anything serves.
public struct Configuration: Equatable, Sendable {
    /// The SQLite file every responder shares; on tmpfs so that it costs no disk writes.
    public var database = "/dev/shm/shoal.db"
    /// Where a `SHOAL_DATABASE` request parameter may put a database: empty (the default) allows
    /// none but `database` itself, so that a request parameter cannot create files elsewhere.
    public var requestDatabaseDirectory = ""
    /// Permissions of the database files Shoal creates: owner-only, since they hold every peer's
    /// address and whoever can open them can hold the workers' turn.
    public var databaseMode: UInt32 = 0o600
    /// Pages in use beyond which new peers and swarms are refused (known peers go on).
    public var maxDatabaseBytes: Int64 = 512 << 20
    /// Peers one address may have in one swarm; beyond, its oldest entry is replaced.
    public var maxPeersPerAddress = 16
    /// How long a request waits for another process's write lock before answering 503.
    public var busyTimeoutMilliseconds = 2000
    /// The SQLite file on disk that holds what must survive a reboot: the torrent list, client
    /// rules and completed counts. Empty: none (then only `access = open` works).
    public var controlDatabase = "/var/lib/shoal/control.db"
    /// Seconds between copies of the completed counts to the control database.
    public var countsSaveInterval = 300
    /// Private tracking: the secret tokens are checked with, and the one before it (accepted too,
    /// while the site rotates). Never logged; `check-config` shows "(set)".
    public var secret = ""
    public var previousSecret = ""
    /// Private tracking: days a session outlives its last announce before it ends with an
    /// `expired` ledger row.
    public var sessionDays = 7
    /// Private tracking: ledger rows kept for the site to drain; beyond, credit waits in the sessions.
    public var ledgerMaxRows = 10_000_000
    /// Intervals, numwant, scrape limits and client-address rules.
    public var policy = Policy()
    /// `shoal serve` only: where to listen, how many workers, the Unix socket's permissions.
    public var listen = ListenAddress.tcp(host: "127.0.0.1", port: 9000)
    public var workers: Int? = nil
    /// 660: the web server reaches the socket through its group (`socketGroup`), nobody else.
    public var socketMode: UInt32 = 0o660
    /// The Unix socket's group (a name or a number); empty keeps the process's own group.
    public var socketGroup = ""

    public init() {}

    /// Names the first setting that makes no sense, with what would fix it.
    public func validate() -> String? {
        if policy.access != .open, controlDatabase.isEmpty {
            return "access = \(policy.access.rawValue) needs a control-database (the list lives there)"
        }
        if policy.tracking == .private {
            if controlDatabase.isEmpty {
                return "tracking = private needs a control-database (the site's bans, keys and passkeys live there)"
            }
            if secret.isEmpty {
                return "tracking = private needs a secret (at least 32 characters, shared with the site): "
                    + "generate one with 'openssl rand -hex 32'"
            }
        }
        if !policy.controlSecret.isEmpty, controlDatabase.isEmpty {
            return "control-secret needs a control-database (the endpoint writes the site's state there)"
        }
        return policy.validate()
    }

    /// The worker count `shoal serve` runs: as configured, else one per core and at least 2.
    public func workerCount(onlineCores: Int) -> Int { workers ?? max(2, onlineCores) }
}
