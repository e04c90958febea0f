import TrackerCore

/// Private tracking's control state: what responders read on each private announce, and the
/// site's writes (`shoal site`, the control endpoint).
extension SQLiteControlStore: SiteState {
    public func user(forPasskey passkey: [UInt8]) throws -> UInt32? {
        try revalidate()
        let lookup = try statement("SELECT user FROM passkeys WHERE passkey = ?1")
        lookup.bind(String(decoding: passkey, as: UTF8.self), at: 1)
        defer { lookup.reset() }
        guard try lookup.step() else { return nil }
        return UInt32(truncatingIfNeeded: lookup.int64(at: 0))
    }

    /// From two per-process caches (what the site says of the user, of the torrent), revalidated
    /// once per batch like the torrent list; the pair is looked up only for a user who has
    /// revoked tokens at all.
    public func standing(of user: UInt32, on infoHash: InfoHash) throws -> SiteStanding {
        try revalidate()
        let person = try userStanding(user)
        var standing = SiteStanding(keyFloor: person.keyFloor, banned: person.banned, ratioWatch: person.ratioWatch)
        standing.deletedReason = try deletedReason(infoHash)
        if person.hasRevokedTokens {
            let revoked = try statement("SELECT 1 FROM revoked_tokens WHERE user = ?1 AND info_hash = ?2")
            revoked.bind(Int64(user), at: 1)
            revoked.bind(infoHash.bytes, at: 2)
            defer { revoked.reset() }
            standing.tokenRevoked = try revoked.step()
        }
        return standing
    }

    private func userStanding(_ user: UInt32) throws -> UserStanding {
        if let known = userCache[user] { return known }
        let lookup = try statement("""
            SELECT (SELECT floor FROM key_floors WHERE user = ?1), (SELECT message FROM banned_users WHERE user = ?1),
                (SELECT message FROM ratio_watch WHERE user = ?1), EXISTS (SELECT 1 FROM revoked_tokens WHERE user = ?1)
            """)
        lookup.bind(Int64(user), at: 1)
        defer { lookup.reset() }
        _ = try lookup.step()
        let found = UserStanding(
            keyFloor: UInt16(truncatingIfNeeded: lookup.optionalInt64(at: 0) ?? 0), banned: lookup.text(at: 1),
            ratioWatch: lookup.text(at: 2), hasRevokedTokens: lookup.int64(at: 3) != 0)
        if userCache.count >= Self.listedCacheLimit { userCache.removeAll(keepingCapacity: true) }
        userCache[user] = found
        return found
    }

    private func deletedReason(_ infoHash: InfoHash) throws -> String? {
        if let known = deletedCache[infoHash] { return known }
        let lookup = try statement("SELECT reason FROM deleted_torrents WHERE info_hash = ?1")
        lookup.bind(infoHash.bytes, at: 1)
        defer { lookup.reset() }
        let reason = try lookup.step() ? lookup.text(at: 0) : nil
        if deletedCache.count >= Self.listedCacheLimit { deletedCache.removeAll(keepingCapacity: true) }
        deletedCache[infoHash] = .some(reason)
        return reason
    }

    // MARK: - The site's writes

    /// Replaces the whole table with `rows` in one transaction; returns how many it now holds.
    @discardableResult
    public func replaceSiteTable(_ table: SiteTable, with rows: [[SiteValue]], now: Int64) throws -> Int {
        try siteWrite {
            try database.execute("DELETE FROM \(Self.sqlName(table))")
            try insert(rows, into: table, now: now)
            return rows.count
        }
    }

    /// Adds rows (a row with the same key is replaced), in one transaction.
    public func addSiteRows(_ rows: [[SiteValue]], to table: SiteTable, now: Int64) throws {
        try siteWrite { try insert(rows, into: table, now: now) }
    }

    /// Removes the rows with these keys; returns how many were there.
    @discardableResult
    public func removeSiteRows(_ keys: [[SiteValue]], from table: SiteTable) throws -> Int {
        let columns = table.columns.prefix(table.keyCount).map { Self.sqlColumn(table, $0) }
        let condition = columns.enumerated().map { "\($0.element) = ?\($0.offset + 1)" }.joined(separator: " AND ")
        return try siteWrite {
            let delete = try statement("DELETE FROM \(Self.sqlName(table)) WHERE \(condition)")
            var removed = 0
            for key in keys {
                for (index, value) in key.prefix(table.keyCount).enumerated() { Self.bind(value, delete, Int32(index + 1)) }
                try delete.run()
                removed += Int(database.changes)
            }
            return removed
        }
    }

    /// Every row of a table, ordered by its key.
    public func siteRows(_ table: SiteTable) throws -> [[SiteValue]] {
        let columns = table.columns.map { Self.sqlColumn(table, $0) }
        let keys = columns.prefix(table.keyCount).joined(separator: ", ")
        let select = try statement("SELECT \(columns.joined(separator: ", ")) FROM \(Self.sqlName(table)) ORDER BY \(keys)")
        defer { select.reset() }
        var rows: [[SiteValue]] = []
        while try select.step() {
            rows.append(table.columns.indices.map { index in
                switch table.columns[index] {
                case .user, .keyVersion: return .integer(select.int64(at: Int32(index)))
                case .infoHash, .clientPrefix: return .bytes(select.blob(at: Int32(index)))
                case .message, .passkey, .rule: return .text(select.text(at: Int32(index)) ?? "")
                }
            })
        }
        return rows
    }

    /// A write transaction of its own (after any read the batch holds), and no cached answer
    /// outlives it: this connection's writes do not change `data_version`.
    private func siteWrite<T>(_ body: () throws -> T) throws -> T {
        endBatchRead()
        defer { forgetCaches() }
        return try database.writeTransaction(body)
    }

    /// Adds rows inside the caller's transaction (`shoal restore`).
    public func insertSiteRows(_ rows: [[SiteValue]], into table: SiteTable, now: Int64) throws {
        try insert(rows, into: table, now: now)
    }

    private func insert(_ rows: [[SiteValue]], into table: SiteTable, now: Int64) throws {
        var columns = table.columns.map { Self.sqlColumn(table, $0) }
        if table == .clients { columns.append("added") }
        let placeholders = columns.indices.map { "?\($0 + 1)" }.joined(separator: ", ")
        let insert = try statement(
            "INSERT OR REPLACE INTO \(Self.sqlName(table)) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))")
        for row in rows {
            for (index, value) in row.enumerated() { Self.bind(value, insert, Int32(index + 1)) }
            if table == .clients { insert.bind(now, at: Int32(row.count + 1)) }
            try insert.run()
        }
    }

    private static func bind(_ value: SiteValue, _ statement: Statement, _ index: Int32) {
        switch value {
        case .integer(let n): statement.bind(n, at: index)
        case .text(let text): statement.bind(text, at: index)
        case .bytes(let bytes): statement.bind(bytes, at: index)
        }
    }

    static func sqlName(_ table: SiteTable) -> String {
        switch table {
        case .keyFloors: return "key_floors"
        case .banned: return "banned_users"
        case .ratioWatch: return "ratio_watch"
        case .revoked: return "revoked_tokens"
        case .deleted: return "deleted_torrents"
        case .passkeys: return "passkeys"
        case .clients: return "client_rules"
        }
    }

    static func sqlColumn(_ table: SiteTable, _ column: SiteColumn) -> String {
        switch column {
        case .user: return "user"
        case .keyVersion: return "floor"
        case .message: return table == .deleted ? "reason" : "message"
        case .infoHash: return "info_hash"
        case .passkey: return "passkey"
        case .clientPrefix: return "prefix"
        case .rule: return "rule"
        }
    }
}
