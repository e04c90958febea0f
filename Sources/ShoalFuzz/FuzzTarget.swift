import TrackerConfig
import TrackerCore
import TrackerFastCGI

/// What the fuzzer feeds arbitrary bytes to: every parser that reads what a client, a web server
/// or an operator wrote. Each must answer (a value or a thrown error), never trap or hang.
enum FuzzTarget: String, CaseIterable {
    /// The announce and scrape query string: percent-decoding, numbers, repeated keys.
    case query
    /// The strict bencode decoder, encoding what it decoded back to the same bytes, and the spans
    /// of a dictionary's values (a .torrent's info_hash is hashed from one); the cluster's full
    /// scrape reader and merge.
    case bencode
    /// FastCGI records and name-value pairs, arriving in pieces, with replies and aborts.
    case fastcgi
    /// The configuration file reader: lines, settings, values.
    case config
    /// Private tracking: request paths (credentials, URL shapes, control paths) and the site's
    /// TSV tables, whose accepted rows must render back to text that parses to the same rows.
    case site

    func run(_ bytes: [UInt8]) {
        switch self {
        case .query:
            _ = try? AnnounceRequest(query: bytes)
            _ = try? ScrapeRequest(query: bytes, limit: 64)
        case .bencode:
            fullScrapeMerge(bytes)
            guard let value = try? Bencode.decode(bytes) else { return }
            var writer = BencodeWriter()
            write(value, to: &writer)
            // Strict decoding accepts only the canonical form, so it must come back unchanged.
            precondition(writer.bytes == bytes, "decoded bencode did not encode back to the same bytes")
            // Each top-level value's span holds exactly that value.
            guard let (again, spans) = try? Bencode.decodeWithTopLevelSpans(bytes) else {
                preconditionFailure("decodeWithTopLevelSpans refused what decode accepted")
            }
            precondition(again == value, "the two decoders disagree")
            if case .dictionary(let entries) = value {
                precondition(spans.count == entries.count, "a top-level value has no span")
                for (key, span) in spans {
                    precondition((try? Bencode.decode(Array(bytes[span]))) == entries[key], "a span does not hold its value")
                }
            }
        case .fastcgi:
            FastCGIConnection.fuzz(bytes)
        case .config:
            _ = try? ConfigurationLoader.load(fileBytes: bytes, path: "fuzz.conf")
        case .site:
            _ = RoutedPath(path: bytes)
            _ = Credential(bytes)
            _ = ControlAction(path: bytes, secret: Array("fuzz-control-secret".utf8))
            for table in SiteTable.allCases {
                _ = try? table.parse(bytes, keysOnly: true)
                guard let rows = try? table.parse(bytes) else { continue }
                let text = rows.map { row in zip(table.columns, row).map { $0.render($1) }.joined(separator: "\t") }
                    .joined(separator: "\n")
                precondition((try? table.parse(Array(text.utf8))) == rows, "a parsed row did not render back to itself")
            }
        }
    }
}

/// Writes a decoded value back with the tracker's own writer, keys in raw-byte order (BEP 3).
private func write(_ value: Bencode, to writer: inout BencodeWriter) {
    switch value {
    case .integer(let number): writer.integer(number)
    case .bytes(let bytes): writer.string(bytes)
    case .list(let items):
        writer.beginList()
        for item in items { write(item, to: &writer) }
        writer.end()
    case .dictionary(let entries):
        writer.beginDictionary()
        for (key, item) in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            writer.string(key)
            write(item, to: &writer)
        }
        writer.end()
    }
}

/// A full scrape that reads must merge with itself into what it merges to alone (a torrent on
/// two hosts takes the larger counts), and that must read again.
private func fullScrapeMerge(_ bytes: [UInt8]) {
    guard let scrape = try? FullScrapeMerge.read(bytes) else { return }
    let alone = FullScrapeMerge.merge([scrape])
    precondition(FullScrapeMerge.merge([scrape, scrape]) == alone, "a scrape merged with itself changed")
    guard let again = try? FullScrapeMerge.read(alone) else { preconditionFailure("a merged scrape does not read") }
    precondition(again.count == scrape.count, "the merge lost or added torrents")
}
