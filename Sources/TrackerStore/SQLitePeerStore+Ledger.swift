import TrackerCore

/// Private tracking's ledger on the peers database: the announce path's access to it, and the
/// site's side (draining and acknowledging rows).
extension SQLitePeerStore {
    /// Private tracking's sessions and ledger, on this connection (prepared on first use).
    func ledger() throws(SQLiteError) -> SQLiteLedger {
        if let ledgerStore { return ledgerStore }
        let opened = try SQLiteLedger(database: database)
        ledgerStore = opened
        return opened
    }

    /// Whether the ledger is below `ledgerMaxRows`. Far below it, the answer holds for a while:
    /// it is looked up again after a sixteenth of the room left has been used by this process
    /// (other workers fill it too, so the cap is a soft one, passed by a few percent at most).
    func ledgerHasRoom() throws(SQLiteError) -> Bool {
        if ledgerRoomCountdown > 0 {
            ledgerRoomCountdown -= 1
            return true
        }
        if let known = batch?.ledgerHasRoom { return known }
        let limit = spaceGuard.limits.ledgerMaxRows
        let held = Int64(try ledger().heldRange()?.count ?? 0)
        let room = held < limit
        ledgerRoomCountdown = Int(max(0, limit - held) / 16)
        if batch != nil { batch?.ledgerHasRoom = room }
        return room
    }

    /// Up to `limit` ledger rows after `seq`, with the epoch (see `SQLiteLedger.page`).
    public func ledgerPage(after seq: Int64, limit: Int) throws -> LedgerPage {
        try inReadOrBatch { try ledger().page(after: seq, limit: limit) }
    }

    /// Deletes the rows through `seq`; false when `epoch` is not this database's.
    public func acknowledgeLedger(epoch: Int64, through seq: Int64) throws -> Bool {
        try inWriteTransaction { try ledger().acknowledge(epoch: epoch, through: seq) }
    }

    /// Rows waiting for the site, and the time of the oldest (for /stats).
    public func ledgerBacklog() throws -> (rows: Int64, oldest: Int64?) {
        let ledger = try ledger()
        guard let held = try ledger.heldRange() else { return (0, nil) }
        let oldest = try database.scalar(
            "SELECT time FROM ledger WHERE seq >= \(held.lowerBound) ORDER BY seq LIMIT 1")  // an integer, not input
        return (Int64(held.count), oldest)
    }

    /// Reads inside the batch's transaction when there is one, else in a read transaction of
    /// their own, so that what is read belongs together.
    private func inReadOrBatch<T>(_ body: () throws -> T) throws -> T {
        if batch != nil { return try inWriteTransaction(body) }
        try beginRead.run()
        do {
            let result = try body()
            try commit.run()
            return result
        } catch {
            try? rollback.run()
            throw error
        }
    }
}
