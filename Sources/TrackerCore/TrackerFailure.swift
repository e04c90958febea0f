/// A refusal the client can act on; `reason` is sent verbatim as the bencoded `failure reason`.
///
/// The client is at fault, so the reply is HTTP 200 with a short fixed message. Problems on our side
/// (the database) are not `TrackerFailure`s: they are logged and answered with `Tracker.unavailable`.
public struct TrackerFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    /// A short name for statistics (`unregistered_torrent`, `invalid_number`).
    public let kind: String
    private init(_ reason: String, kind: String) {
        self.reason = reason
        self.kind = kind
    }

    public var description: String { reason }

    public static let missingInfoHash = TrackerFailure("missing info_hash", kind: "missing_info_hash")
    public static let malformedInfoHash = TrackerFailure("info_hash must be 20 bytes", kind: "malformed_info_hash")
    public static let ambiguousInfoHash = TrackerFailure("announce for one info_hash at a time (two different ones given)", kind: "ambiguous_info_hash")
    public static let missingPeerID = TrackerFailure("missing peer_id", kind: "missing_peer_id")
    public static let malformedPeerID = TrackerFailure("peer_id must be 20 bytes", kind: "malformed_peer_id")
    public static let missingPort = TrackerFailure("missing port", kind: "missing_port")
    public static let invalidPort = TrackerFailure("port must be 1-65535", kind: "invalid_port")
    public static let missingLeft = TrackerFailure("missing left", kind: "missing_left")
    public static let invalidEvent = TrackerFailure("event must be started, completed, stopped, paused or empty", kind: "invalid_event")
    public static let badPercentEncoding = TrackerFailure("malformed percent-encoding in query string", kind: "bad_percent_encoding")
    public static let queryTooLong = TrackerFailure("query string too long", kind: "query_too_long")
    public static let fullScrapeDisabled = TrackerFailure("full scrape is disabled: pass one or more info_hash", kind: "full_scrape_disabled")
    public static let missingClientAddress = TrackerFailure("tracker misconfigured: no client address", kind: "missing_client_address")
    public static let notFound = TrackerFailure("not found: use /announce or /scrape", kind: "not_found")
    /// Sent for anything that is not the client's fault; the details go to the log only.
    public static let internalError = TrackerFailure("internal server error", kind: "internal_error")
    /// Sent with HTTP 503 and `retry in` when the database cannot serve the request right now.
    public static let unavailable = TrackerFailure("tracker temporarily unavailable, retry later", kind: "unavailable")
    /// A new peer or torrent that would take space the tracker does not have now (its database or
    /// disk is full); known peers go on. Sent with `retry in`.
    public static let trackerFull = TrackerFailure("tracker is full: no new peers or torrents for now, retry later", kind: "tracker_full")

    /// `access = whitelist` and the torrent is not on the list. Sent with `retry in`.
    public static let unregisteredTorrent = TrackerFailure("torrent not registered with this tracker", kind: "unregistered_torrent")
    /// `access = blacklist` and the torrent is on the list. Sent with `retry in`.
    public static let bannedTorrent = TrackerFailure("torrent is banned on this tracker", kind: "banned_torrent")
    /// The peer_id matches no `allow` client rule, or a `deny` one. Sent with `retry in`.
    public static let clientNotAllowed = TrackerFailure("client not allowed on this tracker", kind: "client_not_allowed")

    /// `full-scrape-interval` has not passed since this address's last full scrape.
    public static let fullScrapeThrottled = TrackerFailure(
        "full scrape allowed once per full-scrape-interval per address: retry later", kind: "full_scrape_throttled")

    /// `early-announce = refuse` and a regular re-announce came before `min interval`.
    public static let tooEarly = TrackerFailure(
        "announced too soon: wait min interval between regular announces", kind: "too_early")
    /// `announce-protocol = compact` and the client asked for `compact=0`.
    public static let compactRequired = TrackerFailure(
        "this tracker requires compact announces (compact=1, BEP 23)", kind: "compact_required")
    /// `announce-protocol = no_peer_id` and the client asked for peer IDs.
    public static let noPeerIDRequired = TrackerFailure(
        "this tracker requires compact=1 or no_peer_id=1 announces", kind: "no_peer_id_required")

    /// `tracking = private` and the announce URL carries no credential.
    public static let credentialRequired = TrackerFailure(
        "this is a private tracker: download the .torrent again from the site", kind: "credential_required")
    /// A credential of neither shape, an unknown passkey, or a token whose tag does not verify
    /// for this torrent.
    public static let unknownCredential = TrackerFailure(
        "unknown or invalid passkey or token: download the .torrent again from the site", kind: "unknown_credential")
    /// The token's key version is below the user's floor, or the site revoked it for this torrent.
    public static let revokedCredential = TrackerFailure(
        "this token was revoked: download the .torrent again from the site", kind: "revoked_credential")
    /// Private tracking and a counter above 2^63 - 1: no client gets there honestly.
    public static func counterOutOfRange(_ parameter: String) -> TrackerFailure {
        TrackerFailure("\(parameter) is out of range", kind: "counter_out_of_range")
    }

    /// A refusal in the site's own words (a ban, a deleted torrent, ratio watch).
    public static func site(_ message: String, kind: String) -> TrackerFailure { TrackerFailure(message, kind: kind) }

    /// Refusals by the operator's lists or the site: the client may ask again later, but not soon.
    public var isAccessRefusal: Bool {
        self == .unregisteredTorrent || self == .bannedTorrent || self == .clientNotAllowed || isCredentialRefusal
    }

    /// Refusals of private tracking's credentials and control state.
    public var isCredentialRefusal: Bool {
        switch kind {
        case "credential_required", "unknown_credential", "revoked_credential", "banned_user", "deleted_torrent",
            "ratio_watch":
            return true
        default: return false
        }
    }

    /// A numeric parameter that is not a non-negative decimal integer in range.
    public static func invalidNumber(_ parameter: String) -> TrackerFailure {
        TrackerFailure("\(parameter) must be a non-negative integer", kind: "invalid_number")
    }

    public static func tooManyInfoHashes(limit: Int) -> TrackerFailure {
        TrackerFailure("too many info_hash values (at most \(limit))", kind: "too_many_info_hashes")
    }
}
