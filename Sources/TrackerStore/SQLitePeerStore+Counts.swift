import TrackerCore

/// The completed counts (`downloaded`) outlive the peers database on tmpfs: they are copied to
/// the control database on disk every few minutes, and added back once to a new peers database.
///
/// No announce writes to the disk: a completion marks its swarm in `unsaved_counts` (a trigger, in
/// the same transaction), and one worker's upkeep copies the marked counts. A worker killed during
/// a copy leaves the marks in place, so the next copy redoes it; the copy writes absolute counts,
/// so doing it twice changes nothing.
extension SQLitePeerStore {
    /// Counts copied per round; more wait for the next upkeep, a second later.
    static let countsPerSave = 20_000

    /// Adds the control database's counts to this peers database, once in its life (a fact in
    /// the database says it was done). Run before serving, by every process: all but the first
    /// find the fact and return. Counts made here before a control database was configured stay
    /// marked for copying, and are copied with the saved ones added.
    public func restoreCounts(from control: SQLiteControlStore, now: Int64) throws {
        if try fact("counts_restored") != nil { return }
        try database.writeTransaction {
            if try fact("counts_restored") != nil { return }
            // Straight into `torrents`: no peer changes, so no trigger marks these as unsaved (they
            // are on disk already) and the total of completions is kept here.
            let add = try database.prepare("""
                INSERT INTO torrents (info_hash, downloaded) VALUES (?1, ?2)
                ON CONFLICT (info_hash) DO UPDATE SET downloaded = downloaded + excluded.downloaded
                """)
            var restored: Int64 = 0
            let saved = try control.database.prepare("SELECT info_hash, downloaded FROM completed")
            while try saved.step() {
                add.bind(saved.blob(at: 0), at: 1)
                add.bind(saved.int64(at: 1), at: 2)
                try add.run()
                restored += saved.int64(at: 1)
            }
            let total = try database.prepare("UPDATE totals SET completed = completed + ?1")
            total.bind(restored, at: 1)
            try total.run()
            try setFact("counts_restored", now)
        }
    }

    /// Copies the counts that grew to the control database if `interval` seconds have passed since
    /// the last copy by any process sharing this database. Returns how many were copied.
    @discardableResult
    public func saveCountsIfDue(to control: SQLiteControlStore, now: Int64, interval: Int64) throws -> Int {
        // Cheap for the workers that find it not due: one read, no write lock.
        guard try fact("counts_restored") != nil, now - (try fact("counts_saved_at") ?? 0) >= interval else { return 0 }
        let grown: [(hash: [UInt8], downloaded: Int64)] = try database.writeTransaction {
            // Claimed under the write lock, so one process copies and the others find it done.
            guard now - (try fact("counts_saved_at") ?? 0) >= interval else { return [] }
            let read = try database.prepare("""
                SELECT u.info_hash, t.downloaded FROM unsaved_counts u JOIN torrents t USING (info_hash) LIMIT ?1
                """)
            read.bind(Int64(Self.countsPerSave), at: 1)
            var rows: [([UInt8], Int64)] = []
            while try read.step() { rows.append((read.blob(at: 0), read.int64(at: 1))) }
            // A full round leaves more: the next upkeep goes on at once.
            try setFact("counts_saved_at", rows.count == Self.countsPerSave ? 0 : now)
            return rows
        }
        guard !grown.isEmpty else { return 0 }
        try control.saveCounts(grown)
        try database.writeTransaction {
            // A swarm that completed again meanwhile stays marked for the next copy.
            let unmark = try database.prepare("""
                DELETE FROM unsaved_counts
                WHERE info_hash = ?1 AND (SELECT downloaded FROM torrents WHERE info_hash = ?1) = ?2
                """)
            for row in grown {
                unmark.bind(row.hash, at: 1)
                unmark.bind(row.downloaded, at: 2)
                try unmark.run()
            }
        }
        return grown.count
    }

    func fact(_ name: String) throws -> Int64? {
        let statement = try database.prepare("SELECT value FROM facts WHERE name = ?1")
        statement.bind(name, at: 1)
        guard try statement.step() else { return nil }
        return statement.int64(at: 0)
    }

    private func setFact(_ name: String, _ value: Int64) throws {
        let statement = try database.prepare(
            "INSERT INTO facts (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        statement.bind(name, at: 1)
        statement.bind(value, at: 2)
        try statement.run()
    }
}

extension SQLiteControlStore {
    /// Stores absolute counts; a count never goes down (a copy from a peers database that has
    /// not had the saved counts added yet cannot undo them).
    public func saveCounts(_ counts: [(hash: [UInt8], downloaded: Int64)]) throws {
        try database.writeTransaction {
            let upsert = try countUpsert()
            for row in counts {
                upsert.bind(row.hash, at: 1)
                upsert.bind(row.downloaded, at: 2)
                try upsert.run()
            }
        }
    }

    /// Stores one count inside the caller's transaction (`shoal restore`).
    public func saveCount(hash: [UInt8], downloaded: Int64) throws {
        let upsert = try countUpsert()
        upsert.bind(hash, at: 1)
        upsert.bind(downloaded, at: 2)
        try upsert.run()
    }

    private func countUpsert() throws -> Statement {
        try statement("""
            INSERT INTO completed (info_hash, downloaded) VALUES (?1, ?2)
            ON CONFLICT (info_hash) DO UPDATE SET downloaded = max(downloaded, excluded.downloaded)
            """)
    }

    /// Whether the control database holds nothing an operator made (torrents, rules, counts, the
    /// site's tables).
    public func isEmpty() throws -> Bool {
        let counts = Self.operatorTables.map { "(SELECT count(*) FROM \($0))" }.joined(separator: " + ")
        return try database.scalar("SELECT \(counts)") == 0
    }

    /// Deletes everything an operator made, inside the caller's transaction (`restore --replace`).
    public func deleteEverything() throws {
        try database.execute((Self.operatorTables + ["torrent_hashes"]).map { "DELETE FROM \($0);" }.joined())
    }

    /// The tables that hold what an operator made: the torrent list, completed counts, and every
    /// site table (`clients` among them is `client_rules`).
    private static let operatorTables = ["torrents", "completed"] + SiteTable.allCases.map(sqlName)

    /// Every saved count, by hash.
    public func savedCounts(_ body: (_ hash: [UInt8], _ downloaded: Int64) throws -> Void) throws {
        let rows = try database.prepare("SELECT info_hash, downloaded FROM completed ORDER BY info_hash")
        while try rows.step() { try body(rows.blob(at: 0), rows.int64(at: 1)) }
    }
}
