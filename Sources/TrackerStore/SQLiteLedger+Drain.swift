import CSQLite
import TrackerCore

extension SQLiteLedger {
    /// The most rows one drain request returns.
    public static let maxPage = 100_000

    /// The epoch of this peers database (drawn when it was made).
    func epoch() throws(SQLiteError) -> Int64 {
        try database.scalar("SELECT value FROM facts WHERE name = 'epoch'") ?? 0
    }

    /// Up to `limit` rows after `seq`, in order, with the epoch; read in one transaction so that
    /// the epoch and the rows belong together.
    func page(after seq: Int64, limit: Int) throws(SQLiteError) -> LedgerPage {
        let read = try database.prepare("""
            SELECT seq, time, user, info_hash, event, uploaded, downloaded, seconds, seeding, left, flags
            FROM ledger WHERE seq > max(?1, coalesce((SELECT value FROM facts WHERE name = 'ledger_acked'), 0))
            ORDER BY seq LIMIT ?2
            """)
        read.bind(seq, at: 1)
        read.bind(Int64(max(0, min(limit, Self.maxPage))), at: 2)
        var rows: [LedgerRow] = []
        while try read.step() {
            rows.append(LedgerRow(
                seq: read.int64(at: 0), time: read.int64(at: 1), user: UInt32(truncatingIfNeeded: read.int64(at: 2)),
                infoHash: read.blob(at: 3), event: read.text(at: 4) ?? "", uploaded: read.int64(at: 5),
                downloaded: read.int64(at: 6), seconds: read.int64(at: 7), seeding: read.int64(at: 8),
                left: read.int64(at: 9), flags: LedgerFlags(rawValue: read.int64(at: 10))))
        }
        let last: Int64
        if let held = try heldRange() { last = held.upperBound } else { last = try lastIssued() }
        return LedgerPage(epoch: try epoch(), rows: rows, last: last)
    }

    /// The last `seq` given out (the newest row is never deleted, so it is still there).
    func lastIssued() throws(SQLiteError) -> Int64 {
        try database.scalar("SELECT max(seq) FROM ledger") ?? 0
    }

    /// Deletes the rows through `seq` once the site has stored them, but the newest row, which
    /// keeps the numbering going; false (nothing deleted) when `epoch` is not this database's:
    /// the site acknowledges rows of a ledger that is gone.
    func acknowledge(epoch claimed: Int64, through seq: Int64) throws(SQLiteError) -> Bool {
        guard claimed == (try epoch()) else { return false }
        let last = try lastIssued()
        let through = min(seq, last)
        let mark = try database.prepare("""
            INSERT INTO facts (name, value) VALUES ('ledger_acked', ?1)
            ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)
            """)
        mark.bind(through, at: 1)
        try mark.run()
        let delete = try database.prepare("DELETE FROM ledger WHERE seq <= ?1 AND seq < ?2")
        delete.bind(through, at: 1)
        delete.bind(last, at: 2)
        try delete.run()
        return true
    }

    /// The upkeep's part: sessions that stopped while the ledger was full get their last row, and
    /// sessions not heard from for `sessionSeconds` end with an `expired` row, both once there is
    /// room in the ledger. Looks at up to
    /// `step` sessions from where the last call stopped, so any number of sessions costs a bounded
    /// amount per call. Returns where to continue (nil: from the start).
    func sweep(
        from cursor: SessionKey?, step: Int, now: Int64, sessionSeconds: Int64, maxRows: Int64
    ) throws(SQLiteError) -> SessionKey? {
        var room = try hasRoom(maxRows: maxRows)
        let scan = try sweepStatement()
        defer { scan.reset() }
        let start = cursor ?? SessionKey(user: -1, infoHash: [], peerID: [], port: 0)
        scan.bind(start.user, at: 1)
        scan.bind(start.infoHash, at: 2)
        scan.bind(start.peerID, at: 3)
        scan.bind(start.port, at: 4)
        scan.bind(Int64(step), at: 5)
        var last: SessionKey? = nil
        var ending: [(SessionKey, String, Int64, Credit, Bool)] = []
        var seen = 0
        while try scan.step() {
            seen += 1
            let key = SessionKey(user: scan.int64(at: 0), infoHash: scan.blob(at: 1), peerID: scan.blob(at: 2), port: scan.int64(at: 3))
            last = key
            let ended = scan.int64(at: 12) != 0
            guard ended || scan.int64(at: 5) < now - sessionSeconds else { continue }
            let owed = Credit(
                uploaded: scan.int64(at: 6), downloaded: scan.int64(at: 7), seconds: scan.int64(at: 8),
                seeding: scan.int64(at: 9), flags: LedgerFlags(rawValue: scan.int64(at: 10)))
            ending.append((key, ended ? "stopped" : "expired", scan.int64(at: 4), owed, scan.int64(at: 11) != 0))
        }
        scan.reset()
        for (key, event, left, owed, owedSnatch) in ending {
            if !room { break }
            try writeLastRows(key, event: event, left: left, owed: owed, owedSnatch: owedSnatch, now: now)
            room = try hasRoom(maxRows: maxRows)
        }
        return seen < step ? nil : last
    }

    /// A session's key, in the sessions table's order.
    struct SessionKey: Equatable {
        var user: Int64
        var infoHash: [UInt8]
        var peerID: [UInt8]
        var port: Int64
    }

    /// A session's final rows (a held snatch first), then the session is gone.
    private func writeLastRows(
        _ key: SessionKey, event: String, left: Int64, owed: Credit, owedSnatch: Bool, now: Int64
    ) throws(SQLiteError) {
        let user = UInt32(truncatingIfNeeded: key.user)
        if owedSnatch { try appendRow(now, user, key.infoHash, "completed", Credit(flags: .deferred), left: left) }
        var last = owed
        if !owed.isEmpty || !owed.flags.isEmpty { last.flags.insert(.deferred) }
        try appendRow(now, user, key.infoHash, event, last, left: left)
        let delete = try database.prepare(
            "DELETE FROM sessions WHERE user = ?1 AND info_hash = ?2 AND peer_id = ?3 AND port = ?4")
        delete.bind(key.user, at: 1)
        delete.bind(key.infoHash, at: 2)
        delete.bind(key.peerID, at: 3)
        delete.bind(key.port, at: 4)
        try delete.run()
    }
}
