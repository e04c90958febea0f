/// What the site's control endpoint changes and reads: its control state (in the control
/// database) and the ledger (in the peers database). The responder is the real one.
public protocol SiteAdministration: AnyObject {
    func ledgerPage(after seq: Int64, limit: Int) throws -> LedgerPage
    /// Deletes the rows through `seq`; false (nothing deleted) when `epoch` is not the ledger's.
    func acknowledgeLedger(epoch: Int64, through seq: Int64) throws -> Bool
    func siteRows(_ table: SiteTable) throws -> [[SiteValue]]
    /// Replaces the whole table in one transaction; returns how many rows it holds now.
    func replaceSiteTable(_ table: SiteTable, with rows: [[SiteValue]]) throws -> Int
    func addSiteRows(_ rows: [[SiteValue]], to table: SiteTable) throws
    /// Returns how many rows were removed.
    func removeSiteRows(_ keys: [[SiteValue]], from table: SiteTable) throws -> Int
}

/// A path under the control endpoint: `<prefix>/<control-secret>/<action…>`.
public enum ControlAction: Equatable, Sendable {
    /// `ledger?after=SEQ&limit=N`
    case ledger
    /// `ledger/ack?epoch=E&through=SEQ`
    case acknowledge
    /// `site/<table>`: GET lists it, POST replaces it with the body.
    case table(SiteTable)
    /// `site/<table>/add` (POST): rows to add or replace.
    case add(SiteTable)
    /// `site/<table>/remove` (POST): keys (or whole rows) to remove.
    case remove(SiteTable)
    /// `swarms?info_hash=…`: seeders, leechers and snatches per torrent, for the site's pages.
    case swarms
    /// The secret matched but the rest names nothing.
    case unknown

    /// Finds `secret` as a whole path segment (compared in constant time) and reads what follows
    /// it; nil when no segment is the secret.
    public init?(path: [UInt8], secret: [UInt8]) {
        guard !secret.isEmpty else { return nil }
        let segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard let index = segments.firstIndex(where: { constantTimeEquals($0, secret) }) else { return nil }
        let rest = segments[(index + 1)...].map { String(decoding: $0, as: UTF8.self) }
        switch rest.count {
        case 1 where rest[0] == "ledger": self = .ledger
        case 1 where rest[0] == "swarms": self = .swarms
        case 2 where rest == ["ledger", "ack"]: self = .acknowledge
        case 2 where rest[0] == "site": self = SiteTable(rawValue: rest[1]).map { .table($0) } ?? .unknown
        case 3 where rest[0] == "site" && rest[2] == "add": self = SiteTable(rawValue: rest[1]).map { .add($0) } ?? .unknown
        case 3 where rest[0] == "site" && rest[2] == "remove":
            self = SiteTable(rawValue: rest[1]).map { .remove($0) } ?? .unknown
        default: self = .unknown
        }
    }
}
