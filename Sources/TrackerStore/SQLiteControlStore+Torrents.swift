import TrackerCore

/// A torrent on the list, as commands register and show it.
public struct RegisteredTorrent: Equatable, Sendable {
    /// Every hash it is announced with, v1 before v2.
    public var hashes: [TorrentHash]
    /// Nil for a bare hash (no .torrent file known).
    public var name: String?
    public var size: Int64?
    public var files: Int64?
    /// Unix time it was registered.
    public var added: Int64
    /// The .torrent file's bytes; nil for a bare hash.
    public var metainfo: [UInt8]?
    /// The file `sync` read it from, and that file's size and mtime then.
    public var origin: String?
    public var originSeen: String?

    public init(
        hashes: [TorrentHash], name: String? = nil, size: Int64? = nil, files: Int64? = nil, added: Int64,
        metainfo: [UInt8]? = nil, origin: String? = nil, originSeen: String? = nil
    ) {
        self.hashes = hashes
        self.name = name
        self.size = size
        self.files = files
        self.added = added
        self.metainfo = metainfo
        self.origin = origin
        self.originSeen = originSeen
    }
}

/// One hash a torrent is announced with, and which BitTorrent version it is the hash of.
public struct TorrentHash: Equatable, Sendable {
    public var infoHash: InfoHash
    /// 1: SHA-1 of the info dictionary; 2: its SHA-256 truncated to 20 bytes (BEP 52); 0: a bare
    /// hash given by hand, either.
    public var version: Int

    public init(_ infoHash: InfoHash, version: Int) {
        self.infoHash = infoHash
        self.version = version
    }
}

/// What registering a torrent did.
public enum Registration: Equatable, Sendable {
    case added
    /// A bare hash was there; it now has the file's name, size and bytes.
    case completed
    /// Every hash was registered with a file already: nothing changed.
    case alreadyRegistered
}

extension SQLiteControlStore {
    /// Registers a torrent. Call inside `database.writeTransaction` when registering several, so a
    /// command applies all or nothing.
    ///
    /// A torrent whose hashes are registered as bare hashes replaces them (keeping the earliest
    /// `added`); one registered with a file already is left as it is.
    ///
    /// - Parameter completingBareHashes: false leaves a torrent registered in any form alone.
    public func register(_ torrent: RegisteredTorrent, completingBareHashes: Bool = true) throws -> Registration {
        let holders = try torrentIDs(holding: torrent.hashes.map(\.infoHash))
        var added = torrent.added
        if !holders.isEmpty {
            guard completingBareHashes else { return .alreadyRegistered }
            let existing = try holders.compactMap { try self.torrent(id: $0) }
            if existing.contains(where: { $0.metainfo != nil }) || torrent.metainfo == nil { return .alreadyRegistered }
            added = existing.map(\.added).min() ?? added
            for id in holders { try delete(id: id) }
        }
        let insert = try statement("""
            INSERT INTO torrents (name, size, files, added, metainfo, origin, origin_seen)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            """)
        insert.bind(torrent.name, at: 1)
        insert.bind(torrent.size, at: 2)
        insert.bind(torrent.files, at: 3)
        insert.bind(added, at: 4)
        if let metainfo = torrent.metainfo { insert.bind(metainfo, at: 5) } else { insert.bind(nil as String?, at: 5) }
        insert.bind(torrent.origin, at: 6)
        insert.bind(torrent.originSeen, at: 7)
        try insert.run()
        let id = database.lastInsertRowID
        let hash = try statement("INSERT INTO torrent_hashes (info_hash, torrent, version) VALUES (?1, ?2, ?3)")
        for entry in torrent.hashes {
            hash.bind(entry.infoHash.bytes, at: 1)
            hash.bind(id, at: 2)
            hash.bind(Int64(entry.version), at: 3)
            try hash.run()
        }
        return holders.isEmpty ? .added : .completed
    }

    /// Takes the torrent holding `infoHash` (with all its hashes) off the list; false if none does.
    public func unregister(_ infoHash: InfoHash) throws -> Bool {
        guard let id = try torrentIDs(holding: [infoHash]).first else { return false }
        try delete(id: id)
        return true
    }

    /// Every registered torrent, oldest first, with or without the .torrent bytes.
    public func torrents(withMetainfo: Bool = false, _ body: (RegisteredTorrent) throws -> Void) throws {
        let rows = try database.prepare("""
            SELECT id, name, size, files, added, \(withMetainfo ? "metainfo" : "NULL"), origin, origin_seen
            FROM torrents ORDER BY added, id
            """)
        let hashes = try database.prepare(
            "SELECT info_hash, version FROM torrent_hashes WHERE torrent = ?1 ORDER BY version")
        while try rows.step() {
            hashes.bind(rows.int64(at: 0), at: 1)
            var found: [TorrentHash] = []
            while try hashes.step() {
                InfoHash(hashes.blob(at: 0)).map { found.append(TorrentHash($0, version: Int(hashes.int64(at: 1)))) }
            }
            hashes.reset()
            try body(Self.torrent(from: rows, hashes: found))
        }
    }

    /// The torrents `sync` added from files in `directory`: id, file, and what the file was then.
    public func torrents(fromDirectory directory: String) throws -> [(id: Int64, origin: String, seen: String?)] {
        let rows = try database.prepare("SELECT id, origin, origin_seen FROM torrents WHERE origin IS NOT NULL")
        var result: [(Int64, String, String?)] = []
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        while try rows.step() {
            guard let origin = rows.text(at: 1), origin.hasPrefix(prefix),
                !origin.dropFirst(prefix.count).contains("/")
            else { continue }
            result.append((rows.int64(at: 0), origin, rows.text(at: 2)))
        }
        return result
    }

    /// The name and .torrent bytes registered for `infoHash` (either of a torrent's hashes).
    public func catalogEntry(_ infoHash: InfoHash, withMetainfo: Bool) throws -> (name: String?, metainfo: [UInt8]?)? {
        let row = try statement("""
            SELECT t.name, \(withMetainfo ? "t.metainfo" : "t.metainfo IS NOT NULL") FROM torrent_hashes h
            JOIN torrents t ON t.id = h.torrent WHERE h.info_hash = ?1
            """)
        row.bind(infoHash.bytes, at: 1)
        defer { row.reset() }
        guard try row.step() else { return nil }
        if withMetainfo { return (row.text(at: 0), row.isNull(at: 1) ? nil : row.blob(at: 1)) }
        return (row.text(at: 0), row.int64(at: 1) == 1 ? [] : nil)
    }

    /// Every hash on the list (for a full scrape's one pass).
    public func allListedHashes() throws -> Set<[UInt8]> {
        let rows = try database.prepare("SELECT info_hash FROM torrent_hashes")
        var hashes = Set<[UInt8]>()
        while try rows.step() { hashes.insert(rows.blob(at: 0)) }
        return hashes
    }

    /// The hashes of the torrent with `id`, by version.
    public func hashes(ofTorrent id: Int64) throws -> [InfoHash] {
        let rows = try database.prepare("SELECT info_hash FROM torrent_hashes WHERE torrent = ?1 ORDER BY version")
        rows.bind(id, at: 1)
        var result: [InfoHash] = []
        while try rows.step() { InfoHash(rows.blob(at: 0)).map { result.append($0) } }
        return result
    }

    /// Records what the file a torrent came from looks like now (`sync` found it unchanged inside).
    public func setOriginSeen(id: Int64, _ seen: String) throws {
        let statement = try database.prepare("UPDATE torrents SET origin_seen = ?2 WHERE id = ?1")
        statement.bind(id, at: 1)
        statement.bind(seen, at: 2)
        try statement.run()
    }

    public func delete(id: Int64) throws {
        let delete = try statement("DELETE FROM torrents WHERE id = ?1")
        delete.bind(id, at: 1)
        try delete.run()
    }

    private func torrentIDs(holding hashes: [InfoHash]) throws -> [Int64] {
        let lookup = try statement("SELECT torrent FROM torrent_hashes WHERE info_hash = ?1")
        var ids: [Int64] = []
        for hash in hashes {
            lookup.bind(hash.bytes, at: 1)
            if try lookup.step(), !ids.contains(lookup.int64(at: 0)) { ids.append(lookup.int64(at: 0)) }
            lookup.reset()
        }
        return ids
    }

    private func torrent(id: Int64) throws -> RegisteredTorrent? {
        let row = try statement(
            "SELECT id, name, size, files, added, metainfo, origin, origin_seen FROM torrents WHERE id = ?1")
        row.bind(id, at: 1)
        defer { row.reset() }
        guard try row.step() else { return nil }
        return Self.torrent(from: row, hashes: [])
    }

    private static func torrent(from row: Statement, hashes: [TorrentHash]) -> RegisteredTorrent {
        RegisteredTorrent(
            hashes: hashes, name: row.text(at: 1), size: row.optionalInt64(at: 2), files: row.optionalInt64(at: 3),
            added: row.int64(at: 4), metainfo: row.isNull(at: 5) ? nil : row.blob(at: 5), origin: row.text(at: 6),
            originSeen: row.text(at: 7))
    }
}
