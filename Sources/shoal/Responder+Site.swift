import Glibc
import TrackerCore
import TrackerStore

/// The site's control endpoint, on this worker's databases: the ledger of the database the
/// request is served from, the control state in the control database.
extension Responder: SiteAdministration {
    func ledgerPage(after seq: Int64, limit: Int) throws -> LedgerPage {
        try servingStore().ledgerPage(after: seq, limit: limit)
    }

    func acknowledgeLedger(epoch: Int64, through seq: Int64) throws -> Bool {
        try servingStore().acknowledgeLedger(epoch: epoch, through: seq)
    }

    func siteRows(_ table: SiteTable) throws -> [[SiteValue]] {
        try controlStore().siteRows(table)
    }

    func replaceSiteTable(_ table: SiteTable, with rows: [[SiteValue]]) throws -> Int {
        try controlStore().replaceSiteTable(table, with: rows, now: Int64(time(nil)))
    }

    func addSiteRows(_ rows: [[SiteValue]], to table: SiteTable) throws {
        try controlStore().addSiteRows(rows, to: table, now: Int64(time(nil)))
    }

    func removeSiteRows(_ keys: [[SiteValue]], from table: SiteTable) throws -> Int {
        try controlStore().removeSiteRows(keys, from: table)
    }

    private func servingStore() throws -> SQLitePeerStore {
        guard let store = serving?.store else { throw TrackerFailure.unavailable }
        return store
    }

    private func controlStore() throws -> SQLiteControlStore {
        guard let control else { throw Tracker.AccessListMissing() }
        return control
    }
}
