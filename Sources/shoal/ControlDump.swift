import Foundation
import TrackerCore
import TrackerStore

/// The text form of a control database (`shoal dump`, `shoal restore`): one record per line,
/// fields separated by tabs, in a stable order, so that two dumps can be compared with diff.
///
///     shoal-dump 1
///     torrent   ADDED  HASH:VERSION[,HASH:VERSION]  SIZE  FILES  NAME  ORIGIN  ORIGIN_SEEN  METAINFO
///     client    allow|deny  PREFIX  ADDED
///     completed HASH  DOWNLOADED
///     site      TABLE  FIELDS…   (private tracking's tables but `clients`, which are the client
///                                lines: each row as `shoal site list TABLE` prints it)
///
/// ADDED is Unix time; HASH is 40 hex digits; VERSION 1 (SHA-1), 2 (SHA-256 truncated) or 0 (a
/// bare hash); METAINFO is the .torrent file in base64. Text fields (NAME, ORIGIN, ORIGIN_SEEN)
/// are percent-encoded where a byte is a control character, a space, `%` or DEL; PREFIX, which
/// is raw bytes, also every byte outside printable ASCII. `-` stands for none. Lines starting with
/// `#` are comments.
enum ControlDump {
    static let header = "shoal-dump 1"

    static func write(_ control: SQLiteControlStore, to out: (String) -> Void) throws {
        out(header)
        out("# control database \(control.path), dumped \(isoDate(ControlCommand.now))")
        try control.torrents(withMetainfo: true) { torrent in
            let hashes = torrent.hashes.map { "\($0.infoHash.hex):\($0.version)" }.joined(separator: ",")
            out([
                "torrent", String(torrent.added), hashes, number(torrent.size), number(torrent.files), text(torrent.name),
                text(torrent.origin), text(torrent.originSeen), torrent.metainfo.map { Data($0).base64EncodedString() } ?? "-",
            ].joined(separator: "\t"))
        }
        for rule in try control.clientRuleList() {
            out(["client", rule.kind.rawValue, ClientPrefix.text(rule.prefix), String(rule.added)].joined(separator: "\t"))
        }
        try control.savedCounts { hash, downloaded in
            out(["completed", Hex.encode(hash), String(downloaded)].joined(separator: "\t"))
        }
        for table in siteTables {
            for row in try control.siteRows(table) {
                out((["site", table.rawValue] + zip(table.columns, row).map { $0.render($1) }).joined(separator: "\t"))
            }
        }
    }

    /// The site's tables a dump carries; `clients` are the client rules, dumped as client lines.
    static let siteTables = SiteTable.allCases.filter { $0 != .clients }

    struct Problem: Error { let line: Int; let text: String }

    /// Applies a dump inside the caller's transaction; the first bad line stops it.
    static func read(_ text: String, into control: SQLiteControlStore) throws -> (torrents: Int, rules: Int, counts: Int, siteRows: Int) {
        var totals = (torrents: 0, rules: 0, counts: 0, siteRows: 0)
        var sawHeader = false
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = String(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard sawHeader else {
                guard line == header else { throw Problem(line: number, text: "not a shoal dump (the first line must be '\(header)')") }
                sawHeader = true
                continue
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func fail(_ problem: String) -> Problem { Problem(line: number, text: problem) }
            switch fields.first {
            case "torrent":
                guard fields.count == 9, let added = Int64(fields[1]) else { throw fail("a torrent line has 9 fields") }
                var hashes: [TorrentHash] = []
                for item in fields[2].split(separator: ",") {
                    let parts = item.split(separator: ":")
                    guard parts.count == 2, let hash = InfoHash(hex: String(parts[0])), let version = Int(parts[1]),
                        (0...2).contains(version)
                    else { throw fail("bad hash '\(item)'") }
                    hashes.append(TorrentHash(hash, version: version))
                }
                guard !hashes.isEmpty else { throw fail("a torrent needs a hash") }
                var metainfo: [UInt8]? = nil
                if fields[8] != "-" {
                    guard let data = Data(base64Encoded: fields[8]) else { throw fail("metainfo is not base64") }
                    metainfo = Array(data)
                }
                let torrent = RegisteredTorrent(
                    hashes: hashes, name: try decodeText(fields[5], fail), size: Int64(fields[3]), files: Int64(fields[4]),
                    added: added, metainfo: metainfo, origin: try decodeText(fields[6], fail),
                    originSeen: try decodeText(fields[7], fail))
                _ = try control.register(torrent)
                totals.torrents += 1
            case "client":
                guard fields.count == 4, let kind = ClientRule.Kind(rawValue: fields[1]), let added = Int64(fields[3]),
                    let prefix = try decode(fields[2], fail), (1...20).contains(prefix.count)
                else { throw fail("a client line is: client allow|deny PREFIX ADDED") }
                try control.setClientRule(ClientRule(prefix: prefix, kind: kind, added: added))
                totals.rules += 1
            case "completed":
                guard fields.count == 3, let hash = InfoHash(hex: fields[1]), let downloaded = Int64(fields[2]), downloaded >= 0
                else { throw fail("a completed line is: completed HASH COUNT") }
                try control.saveCount(hash: hash.bytes, downloaded: downloaded)
                totals.counts += 1
            case "site":
                guard fields.count >= 3, let table = SiteTable(rawValue: fields[1]), siteTables.contains(table) else {
                    throw fail("a site line is: site TABLE FIELDS… (TABLE one of "
                        + siteTables.map(\.rawValue).joined(separator: ", ") + ")")
                }
                let rows: [[SiteValue]]
                do {
                    rows = try table.parse(Array(fields[2...].joined(separator: "\t").utf8))
                } catch {
                    throw fail("\(table.rawValue): \(error.reason)")
                }
                try control.insertSiteRows(rows, into: table, now: ControlCommand.now)
                totals.siteRows += rows.count
            default:
                throw fail("unknown record '\(fields.first ?? "")'")
            }
        }
        guard sawHeader else { throw Problem(line: 1, text: "empty: not a shoal dump") }
        return totals
    }

    private static func number(_ value: Int64?) -> String { value.map(String.init) ?? "-" }

    private static func text(_ value: String?) -> String { value.map { encode(Array($0.utf8)) } ?? "-" }


    /// Percent-encodes what would break a line or a field; UTF-8 stays readable.
    static func encode(_ bytes: [UInt8]) -> String {
        if bytes == Array("-".utf8) { return "%2D" }
        var out: [UInt8] = []
        for byte in bytes {
            if byte <= 0x20 || byte == UInt8(ascii: "%") || byte == 0x7f {
                out += Array(String(format: "%%%02X", byte).utf8)
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func decodeText(_ field: String, _ fail: (String) -> Problem) throws -> String? {
        try decode(field, fail).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func decode(_ field: String, _ fail: (String) -> Problem) throws -> [UInt8]? {
        if field == "-" { return nil }
        guard case .success(let bytes) = ClientPrefix.percentDecoded(field) else { throw fail("bad %-escape in '\(field)'") }
        return bytes
    }
}
