/// Where swarms live. `SQLitePeerStore` is the real one; the contract below is what `Tracker`
/// and the tests rely on.
///
/// - A peer is identified by (info_hash, endpoint); re-announcing updates it in place.
/// - Peers are handed out in a random order that is fixed per peer between its `started`
///   announces, read from a random starting point on every request.
/// - `announce` applies the change and reads counts and peers in one transaction, so what the
///   reply says is what the store holds, even with other processes writing concurrently.
/// - The announcing peer is never among the returned peers; a peer that is seeding (or a BEP 21
///   partial seed) is given only peers that are still downloading.
/// - Peers whose `expires` is before `now` are never returned; they are removed a few at a time
///   by later announces, and counts drop as they go.
/// - `completed` is counted once per peer: only the first completion of an endpoint in a swarm
///   adds to `downloaded`.
/// - An early re-announce (see `PeerAnnounce.refusesEarly`) throws `TrackerFailure.tooEarly`.
/// - A store may bound its size: an announce that would add a peer or a swarm when there is no
///   room throws `TrackerFailure.trackerFull`, while known peers, `stopped` and expiry go on. Each
///   address may have a bounded number of peers in one swarm; beyond it its oldest is replaced.
/// - An announce with a `session` updates that session and appends its ledger row in the same
///   transaction as the change to the swarm (see `SessionReport` and `LedgerFlags`).
/// - Every other error thrown is the store's own (database trouble), never a `TrackerFailure`.
public protocol PeerStore: AnyObject {
    func announce(_ announce: PeerAnnounce, selection: PeerSelection, now: Int64) throws -> AnnounceOutcome
    /// Counts (with partial seeds) for each hash, in the order given; unknown hashes get zeros.
    func scrape(_ infoHashes: [InfoHash]) throws -> [SwarmCounts]
    /// Peers stored in every swarm, from a kept total (never a count of rows).
    func peerCount() throws -> Int
}

/// The change one announce makes to its swarm.
public struct PeerAnnounce: Equatable, Sendable {
    public var infoHash: InfoHash
    public var endpoint: PeerEndpoint
    public var peerID: PeerID
    /// `stopped` removes the peer; anything else inserts or refreshes it.
    public var removes: Bool
    /// `left == 0`: counted in `complete`.
    public var isComplete: Bool
    /// Wants nothing from seeders: a seeder or a BEP 21 partial seed.
    public var isSeeding: Bool
    /// `event=completed` with `left == 0`; adds to `downloaded` the first time only.
    public var completes: Bool
    /// Unix time after which the peer is no longer handed out.
    public var expires: Int64
    /// A fresh random key that places the peer in the swarm's random order; used when the peer
    /// is new, starts or stops seeding, or `redrawsShuffle`.
    public var shuffle: UInt32
    /// `event=started`: the peer gets a new place in the random order even if it is known.
    public var redrawsShuffle: Bool
    /// early-announce: a known peer whose last announce was after this time is early (nil: not
    /// checked, which costs nothing).
    public var earlyIfAnnouncedAfter: Int64?
    /// An early announce throws `TrackerFailure.tooEarly` (and changes nothing) instead of being
    /// reported in `AnnounceOutcome.wasEarly`.
    public var refusesEarly: Bool = false
    /// Private tracking: the user's counters, credited to the ledger in the same transaction as
    /// the change to the swarm (nil: a public announce, nothing accounted).
    public var session: SessionReport?

    public init(
        infoHash: InfoHash, endpoint: PeerEndpoint, peerID: PeerID, removes: Bool = false,
        isComplete: Bool, isSeeding: Bool? = nil, completes: Bool = false, expires: Int64, shuffle: UInt32,
        redrawsShuffle: Bool = false
    ) {
        self.infoHash = infoHash
        self.endpoint = endpoint
        self.peerID = peerID
        self.removes = removes
        self.isComplete = isComplete
        self.isSeeding = isSeeding ?? isComplete
        self.completes = completes
        self.expires = expires
        self.shuffle = shuffle
        self.redrawsShuffle = redrawsShuffle
    }
}

/// How many peers to hand out, and a random point to start the walk through the swarm from.
public struct PeerSelection: Equatable, Sendable {
    public var count: Int
    public var start: UInt32

    public init(count: Int, start: UInt32) {
        self.count = count
        self.start = start
    }
}

/// Seeders, leechers and completed downloads of one swarm (BEP 48 `complete`, `incomplete`, `downloaded`).
public struct SwarmCounts: Equatable, Sendable {
    public var seeders: Int
    public var leechers: Int
    public var downloaded: Int
    /// BEP 21 partial seeds among the leechers (filled in for scrapes only).
    public var partialSeeds: Int

    public init(seeders: Int = 0, leechers: Int = 0, downloaded: Int = 0, partialSeeds: Int = 0) {
        self.seeders = seeders
        self.leechers = leechers
        self.downloaded = downloaded
        self.partialSeeds = partialSeeds
    }

    /// BEP 21 `downloaders`: peers neither seeding nor partial seeds.
    public var downloaders: Int { max(0, leechers - partialSeeds) }
}

/// A peer handed out in a reply.
public struct PeerRecord: Hashable, Sendable {
    public var endpoint: PeerEndpoint
    public var peerID: PeerID

    public init(endpoint: PeerEndpoint, peerID: PeerID) {
        self.endpoint = endpoint
        self.peerID = peerID
    }
}

/// What the store says after an announce: the swarm's counts (including the announcer) and peers.
public struct AnnounceOutcome: Equatable, Sendable {
    public var counts: SwarmCounts
    public var peers: [PeerRecord]
    /// The peer announced again before `PeerAnnounce.earlyIfAnnouncedAfter`.
    public var wasEarly: Bool

    public init(counts: SwarmCounts, peers: [PeerRecord], wasEarly: Bool = false) {
        self.counts = counts
        self.peers = peers
        self.wasEarly = wasEarly
    }
}
