/// Bounds on what one database may hold, so that no client can fill the disk or a swarm.
public struct StoreLimits: Equatable, Sendable {
    /// Bytes of database pages in use beyond which new peers and new swarms are refused, while
    /// re-announces of known peers, `stopped` and expiry go on. 512 MiB is about 4 million peers
    /// at 120 bytes each.
    public var maxDatabaseBytes: Int64 = 512 << 20
    /// Peers one address may have in one swarm. Beyond it the address's entry that would expire
    /// first is replaced, so a NAT with many honest users still works and a flood from one
    /// address (20,000 ports were stored in 1.6 s) only evicts itself.
    public var maxPeersPerAddress = 16
    /// Private tracking: ledger rows kept for the site to drain. At the cap, credit is held in
    /// the sessions (nothing is lost) and written once the site has drained and acknowledged.
    public var ledgerMaxRows: Int64 = 10_000_000
    /// Private tracking: a session not heard from for this long ends with an `expired` row.
    public var sessionSeconds: Int64 = 7 * 86_400

    public init() {}
}
