import CSQLite
import TrackerCore

/// Private tracking's accounting, in the peers database: the sessions (what each client last
/// reported) and the ledger the site drains.
///
/// Everything here runs on the peers database's connection inside the transaction its caller
/// opened (an announce's, or the upkeep's), so an announce and its ledger row commit together or
/// not at all, and two responders can never both credit the same growth of a counter.
public final class SQLiteLedger {
    let database: Database
    private let findSession: Statement
    private let insertSession: Statement
    private let updateSession: Statement
    private let endSession: Statement
    private let append: Statement
    private let bounds: Statement
    /// The upkeep's scan of the sessions, prepared on its first use (once a second, every worker).
    private var sweepScan: Statement?

    init(database: Database) throws(SQLiteError) {
        self.database = database
        findSession = try database.prepare("""
            SELECT uploaded, downloaded, left, announced, snatched, owed_uploaded, owed_downloaded, owed_seconds,
                owed_seeding, owed_flags, owed_snatch
            FROM sessions WHERE user = ?1 AND info_hash = ?2 AND peer_id = ?3 AND port = ?4
            """)
        insertSession = try database.prepare("""
            INSERT INTO sessions (user, info_hash, peer_id, port, uploaded, downloaded, left, announced,
                snatched, owed_uploaded, owed_downloaded, owed_seconds, owed_seeding, owed_flags, owed_snatch, ended)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
            """)
        // A known session's row is rewritten in place (its key does not change): cheaper than
        // REPLACE, which deletes and inserts.
        updateSession = try database.prepare("""
            UPDATE sessions SET uploaded = ?5, downloaded = ?6, left = ?7, announced = ?8, snatched = ?9,
                owed_uploaded = ?10, owed_downloaded = ?11, owed_seconds = ?12, owed_seeding = ?13, owed_flags = ?14,
                owed_snatch = ?15, ended = ?16
            WHERE user = ?1 AND info_hash = ?2 AND peer_id = ?3 AND port = ?4
            """)
        endSession = try database.prepare(
            "DELETE FROM sessions WHERE user = ?1 AND info_hash = ?2 AND peer_id = ?3 AND port = ?4")
        append = try database.prepare("""
            INSERT INTO ledger (time, user, info_hash, event, uploaded, downloaded, seconds, seeding, left, flags)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        // Two subqueries: SQLite answers max() alone from the end of the rowid B-tree, but a
        // SELECT of two aggregates scans the whole table.
        bounds = try database.prepare("""
            SELECT (SELECT max(seq) FROM ledger), (SELECT value FROM facts WHERE name = 'ledger_acked')
            """)
    }

    func sweepStatement() throws(SQLiteError) -> Statement {
        if let sweepScan { return sweepScan }
        let prepared = try database.prepare("""
            SELECT user, info_hash, peer_id, port, left, announced, owed_uploaded, owed_downloaded, owed_seconds,
                owed_seeding, owed_flags, owed_snatch, ended
            FROM sessions WHERE (info_hash, user, peer_id, port) > (?2, ?1, ?3, ?4)
            ORDER BY info_hash, user, peer_id, port LIMIT ?5
            """)
        sweepScan = prepared
        return prepared
    }

    /// A session's row, as read.
    struct Session {
        var uploaded: Int64
        var downloaded: Int64
        var left: Int64
        var announced: Int64
        var snatched: Bool
        var owed: Credit
        var owedSnatch: Bool
    }

    /// What one ledger row credits.
    struct Credit {
        var uploaded: Int64 = 0
        var downloaded: Int64 = 0
        var seconds: Int64 = 0
        var seeding: Int64 = 0
        var flags = LedgerFlags()

        static func + (a: Credit, b: Credit) -> Credit {
            Credit(
                uploaded: a.uploaded &+ b.uploaded, downloaded: a.downloaded &+ b.downloaded,
                seconds: a.seconds + b.seconds, seeding: a.seeding + b.seeding, flags: a.flags.union(b.flags))
        }

        var isEmpty: Bool { uploaded == 0 && downloaded == 0 && seconds == 0 && seeding == 0 }
    }

    /// Applies one private announce to its session and appends its row (see `LedgerFlags` for the
    /// rules). With no room in the ledger, the credit is added to the session instead and goes out
    /// with a later row.
    ///
    /// - Parameter otherLeechers: peers of the swarm other than this one that are downloading now.
    func record(
        _ report: SessionReport, infoHash: InfoHash, peerID: PeerID, port: UInt16, otherLeechers: Int, now: Int64,
        hasRoom: Bool
    ) throws(SQLiteError) {
        let key = (infoHash.bytes, peerID.bytes, Int64(port))
        let previous = try session(report.user, key)
        var credit = Credit()
        var snatch = false
        if let previous {
            credit = Self.growth(from: previous, to: report, otherLeechers: otherLeechers, now: now)
        } else {
            credit.flags.insert(.new)
        }
        if report.event == .completed {
            if report.left == 0 && !(previous?.snatched ?? false) && !(previous?.owedSnatch ?? false) {
                snatch = true
            } else {
                credit.flags.insert(.repeatCompleted)
            }
        }
        let owed = previous?.owed ?? Credit()
        let owedSnatch = previous?.owedSnatch ?? false
        let ends = report.event == .stopped
        guard hasRoom else {
            // Held in the session; a session that never started and stops has nothing to hold.
            if previous == nil && ends { return }
            var held = owed + credit
            held.flags.insert(.deferred)
            try save(
                report, key, now: now, snatched: previous?.snatched ?? false, owed: held,
                owedSnatch: owedSnatch || snatch, ended: ends, isNew: previous == nil)
            return
        }
        if owedSnatch {
            try appendRow(now, report.user, infoHash.bytes, "completed", Credit(flags: .deferred), left: report.left)
        }
        var written = owed + credit
        if !owed.isEmpty || !owed.flags.isEmpty { written.flags.insert(.deferred) }
        let event = snatch ? "completed" : Self.eventName(report.event)
        try appendRow(now, report.user, infoHash.bytes, event, written, left: report.left)
        if ends {
            try bindKey(endSession, report.user, key)
            try endSession.run()
        } else {
            try save(
                report, key, now: now, snatched: (previous?.snatched ?? false) || owedSnatch || snatch, owed: Credit(),
                owedSnatch: false, ended: false, isNew: previous == nil)
        }
    }

    /// What the counters grew by since the session's last announce, with the cheat-review flags.
    private static func growth(from previous: Session, to report: SessionReport, otherLeechers: Int, now: Int64) -> Credit {
        var credit = Credit()
        credit.seconds = max(0, now - previous.announced)
        credit.seeding = previous.left == 0 ? credit.seconds : 0
        let up = report.uploaded - previous.uploaded
        let down = report.downloaded - previous.downloaded
        guard up >= 0, down >= 0 else {
            credit.flags.insert(.reset)
            return credit
        }
        credit.uploaded = up
        credit.downloaded = down
        if report.implausibleRate > 0 {
            let limit = report.implausibleRate.multipliedReportingOverflow(by: max(1, credit.seconds))
            if !limit.overflow, up > limit.partialValue || down > limit.partialValue { credit.flags.insert(.rate) }
        }
        if down > previous.left { credit.flags.insert(.overdownload) }
        if up > 0 && otherLeechers == 0 { credit.flags.insert(.loneUpload) }
        return credit
    }

    static func eventName(_ event: AnnounceEvent) -> String {
        switch event {
        case .none, .completed: return "update"
        case .started: return "started"
        case .stopped: return "stopped"
        case .paused: return "paused"
        }
    }

    private func session(_ user: UInt32, _ key: ([UInt8], [UInt8], Int64)) throws(SQLiteError) -> Session? {
        try bindKey(findSession, user, key)
        defer { findSession.reset() }
        guard try findSession.step() else { return nil }
        let s = findSession
        return Session(
            uploaded: s.int64(at: 0), downloaded: s.int64(at: 1), left: s.int64(at: 2), announced: s.int64(at: 3),
            snatched: s.int64(at: 4) != 0,
            owed: Credit(
                uploaded: s.int64(at: 5), downloaded: s.int64(at: 6), seconds: s.int64(at: 7), seeding: s.int64(at: 8),
                flags: LedgerFlags(rawValue: s.int64(at: 9))),
            owedSnatch: s.int64(at: 10) != 0)
    }

    private func bindKey(_ statement: Statement, _ user: UInt32, _ key: ([UInt8], [UInt8], Int64)) throws(SQLiteError) {
        statement.bind(Int64(user), at: 1)
        statement.bind(key.0, at: 2)
        statement.bind(key.1, at: 3)
        statement.bind(key.2, at: 4)
    }

    private func save(
        _ report: SessionReport, _ key: ([UInt8], [UInt8], Int64), now: Int64, snatched: Bool, owed: Credit,
        owedSnatch: Bool, ended: Bool, isNew: Bool
    ) throws(SQLiteError) {
        let s = isNew ? insertSession : updateSession
        try bindKey(s, report.user, key)
        s.bind(report.uploaded, at: 5)
        s.bind(report.downloaded, at: 6)
        s.bind(report.left, at: 7)
        s.bind(now, at: 8)
        s.bind(snatched ? 1 : 0, at: 9)
        s.bind(owed.uploaded, at: 10)
        s.bind(owed.downloaded, at: 11)
        s.bind(owed.seconds, at: 12)
        s.bind(owed.seeding, at: 13)
        s.bind(owed.flags.rawValue, at: 14)
        s.bind(owedSnatch ? 1 : 0, at: 15)
        s.bind(ended ? 1 : 0, at: 16)
        try s.run()
    }

    func appendRow(
        _ now: Int64, _ user: UInt32, _ infoHash: [UInt8], _ event: String, _ credit: Credit, left: Int64
    ) throws(SQLiteError) {
        append.bind(now, at: 1)
        append.bind(Int64(user), at: 2)
        append.bind(infoHash, at: 3)
        append.bind(event, at: 4)
        append.bind(credit.uploaded, at: 5)
        append.bind(credit.downloaded, at: 6)
        append.bind(credit.seconds, at: 7)
        append.bind(credit.seeding, at: 8)
        append.bind(left, at: 9)
        append.bind(credit.flags.rawValue, at: 10)
        try append.run()
    }

    /// The `seq` numbers the site has not acknowledged yet, nil when there are none. Both ends
    /// are one lookup each; acknowledging deletes a prefix, so the rows held are `count`.
    func heldRange() throws(SQLiteError) -> ClosedRange<Int64>? {
        defer { bounds.reset() }
        guard try bounds.step(), !bounds.isNull(at: 0) else { return nil }
        let last = bounds.int64(at: 0)
        let acknowledged = bounds.optionalInt64(at: 1) ?? 0
        return last > acknowledged ? (acknowledged + 1)...last : nil
    }

    /// Whether another row may be appended under `maxRows`.
    func hasRoom(maxRows: Int64) throws(SQLiteError) -> Bool {
        guard let held = try heldRange() else { return true }
        return Int64(held.count) < maxRows
    }
}
