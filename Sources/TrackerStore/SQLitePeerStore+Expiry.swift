import CSQLite
import Glibc
import TrackerCore

/// Expiry and upkeep: removing peers whose time is up, a few per announce and more once a second,
/// and keeping the WAL and the disk reserve in shape.
extension SQLitePeerStore {
    /// Rows examined by `maintain` in one go, and the most it deletes: a step every second per
    /// worker covers a million peers in about two minutes with two workers, and a mass expiry is
    /// removed in slices short enough not to hold the other workers up for long.
    static let maintenanceStep: Int64 = 4096
    static let maintenanceDeletes = 512

    /// Once a second, outside any batch, holding the turn: expires a larger step of peers than an
    /// announce does, so that counts and scrapes stop counting expired peers within a bounded
    /// time even with no announces at all (a whole pass over N peers takes at most
    /// N / (4096 x workers) seconds). Also makes the disk reserve again once there is room, and
    /// cuts a WAL that grew past its limit back. Failures are left for the next time.
    public func maintain(now: Int64) {
        guard batch == nil else { return }
        spaceGuard.restoreReserveIfRoom()
        do throws(SQLiteError) {
            try begin.run()
            do throws(SQLiteError) {
                try sweep(now: now, step: Self.maintenanceStep, deleting: Self.maintenanceDeletes)
                let limits = spaceGuard.limits
                sessionSweepFrom = try ledger().sweep(
                    from: sessionSweepFrom, step: Self.maintenanceDeletes, now: now, sessionSeconds: limits.sessionSeconds,
                    maxRows: limits.ledgerMaxRows)
                try commit.run()
            } catch {
                try? rollback.run()
                throw error
            }
        } catch {
            if error.code == SQLITE_FULL { spaceGuard.diskFull() }
        }
        var info = stat()
        if stat(spaceGuard.path + "-wal", &info) == 0, Int(info.st_size) > Self.walLimitBytes {
            // TRUNCATE waits (up to the busy timeout) for readers, then empties the WAL file.
            try? database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Writes and removes a row in one transaction, so that a database that opens but cannot take
    /// a write (a full disk, a read-only file) is found before serving (`shoal check-config`).
    public func probeWrite() throws(SQLiteError) {
        let probe = "x'" + String(repeating: "00", count: 20) + "'"
        try database.execute("""
            BEGIN IMMEDIATE;
            INSERT OR IGNORE INTO torrents (info_hash) VALUES (\(probe));
            DELETE FROM torrents WHERE info_hash = \(probe) AND seeders = 0 AND leechers = 0 AND downloaded = 0;
            COMMIT
            """)
    }

    /// Bytes of pages in use, and whether a new peer or swarm could be added now (`SpaceGuard`;
    /// says why in the log when not).
    public func spaceInUse() throws(SQLiteError) -> (usedBytes: Int64, roomToGrow: Bool) {
        let pages = try pageUsage()
        return (pages.usedBytes, spaceGuard.allowsGrowth(usedBytes: pages.usedBytes, freeInsideBytes: pages.freeBytes))
    }

    /// Examines the next `step` peers after where this process's sweep stopped, and deletes the
    /// expired ones, at most `deleting` of them (the sweep then goes on from the last one deleted).
    func sweep(now: Int64, step: Int64 = sweepStep, deleting: Int = .max) throws(SQLiteError) {
        var key = sweepFrom
        sweepScan.bind(key.hash, at: 1)
        sweepScan.bind(key.seeding, at: 2)
        sweepScan.bind(key.shuffle, at: 3)
        sweepScan.bind(key.endpoint, at: 4)
        sweepScan.bind(step, at: 5)
        var expired: [PeerKey] = []
        var examined: Int64 = 0
        do {
            defer { sweepScan.reset() }
            while expired.count < deleting, try sweepScan.step() {
                examined += 1
                key = (sweepScan.blob(at: 0), sweepScan.int64(at: 1), sweepScan.int64(at: 2), sweepScan.blob(at: 3))
                if sweepScan.int64(at: 4) < now { expired.append(key) }
            }
        }
        expiredRemoved += Int64(expired.count)
        for row in expired {
            deleteByKey.bind(row.hash, at: 1)
            deleteByKey.bind(row.seeding, at: 2)
            deleteByKey.bind(row.shuffle, at: 3)
            deleteByKey.bind(row.endpoint, at: 4)
            try deleteByKey.run()
        }
        // Reaching the end of the table starts the next sweep from the beginning. If the
        // transaction rolls back, these rows are simply looked at again on the next pass.
        sweepFrom = examined < step && expired.count < deleting ? ([], 0, 0, []) : key
    }
}
