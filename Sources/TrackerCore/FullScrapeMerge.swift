/// The cluster's full scrape (nginx/cluster): every host's own full scrape, read and merged into
/// one, as one Shoal would answer it. Made on a timer by `shoal merge-scrape`, never per request.
///
/// Hosts hold disjoint swarms, except for a while after a host went down or came back: then one
/// torrent can have a swarm on two hosts, made of mostly the same peers announcing to one host
/// after the other, so the merged entry takes the larger of each count rather than their sum.
public enum FullScrapeMerge {
    /// One host's full scrape, read: its torrents in info_hash order, each hash a 20-byte slice
    /// of `input` (a million swarms are a million entries: no array per hash).
    public struct HostScrape: Sendable {
        let input: [UInt8]
        var hashOffsets: [Int] = []
        var counts: [SwarmCounts] = []

        public var count: Int { counts.count }

        func hash(_ index: Int) -> ArraySlice<UInt8> { input[hashOffsets[index]..<hashOffsets[index] + 20] }
    }

    /// Reads a full scrape as Shoal writes one: `d5:filesd` then, in byte order, 20-byte hashes
    /// each with a dictionary of counts (`complete`, `downloaded`, `downloaders`, `incomplete`;
    /// other keys are skipped), then `ee`. Other top-level keys are skipped too, except a
    /// `failure reason`, which is the host refusing (full scrape off, or asked too often).
    public static func read(_ input: [UInt8]) throws(Bencode.DecodingError) -> HostScrape {
        var parser = Bencode.Parser(input: input)
        var scrape = HostScrape(input: input)
        var sawFiles = false
        try parser.expect(UInt8(ascii: "d"))
        var previousKey: [UInt8]? = nil
        while try !parser.atEnd() {
            let key = try parser.key(after: previousKey)
            previousKey = key
            switch key {
            case Self.filesKey:
                sawFiles = true
                try readFiles(&parser, into: &scrape)
            case Self.failureKey:
                let reason = try parser.byteString()
                throw parser.error("the host refused: \(String(decoding: reason.prefix(200), as: UTF8.self))")
            default:
                _ = try parser.value(depth: 1)
            }
        }
        guard parser.offset == input.count else { throw parser.error("trailing bytes") }
        guard sawFiles else { throw parser.error("no files dictionary: not a full scrape") }
        return scrape
    }

    private static let filesKey = Array("files".utf8)
    private static let failureKey = Array("failure reason".utf8)

    private static func readFiles(_ parser: inout Bencode.Parser, into scrape: inout HostScrape) throws(Bencode.DecodingError) {
        try parser.expect(UInt8(ascii: "d"))
        var previous: Int? = nil
        while try !parser.atEnd() {
            let start = parser.offset
            let hash = try parser.byteString()
            guard hash.count == 20 else { throw parser.error("an info_hash of \(hash.count) bytes, not 20") }
            let offset = parser.offset - 20
            if let previous, !scrape.input[previous..<previous + 20].lexicographicallyPrecedes(hash) {
                parser.offset = start
                throw parser.error("info_hashes not in byte order or repeated")
            }
            previous = offset
            scrape.hashOffsets.append(offset)
            scrape.counts.append(try readCounts(&parser))
        }
    }

    /// The keys of an entry's counts, in the order `readCounts` reads them by index.
    private static let countKeys = ["complete", "downloaded", "downloaders", "incomplete"].map { Array($0.utf8) }

    private static func readCounts(_ parser: inout Bencode.Parser) throws(Bencode.DecodingError) -> SwarmCounts {
        try parser.expect(UInt8(ascii: "d"))
        var counts = SwarmCounts()
        var downloaders: Int? = nil
        var previousKey: [UInt8]? = nil
        while try !parser.atEnd() {
            let key = try parser.key(after: previousKey)
            previousKey = key
            let value = try parser.value(depth: 3)
            let field = Self.countKeys.firstIndex(of: key)
            guard case .integer(let n) = value, n >= 0, n <= Int64(Int32.max) else {
                if field != nil { throw parser.error("a count that is not an integer from 0 to 2^31-1") }
                continue
            }
            switch field {
            case 0: counts.seeders = Int(n)
            case 1: counts.downloaded = Int(n)
            case 2: downloaders = Int(n)
            case 3: counts.leechers = Int(n)
            default: continue
            }
        }
        // The encoding carries downloaders; partial seeds are the leechers that are not.
        counts.partialSeeds = max(0, counts.leechers - (downloaders ?? counts.leechers))
        return counts
    }

    /// The hosts' scrapes as one: every torrent once, in byte order. Each scrape is in order
    /// already, so this is a k-way merge (k hosts: a few dozen at most), no sort.
    public static func merge(_ scrapes: [HostScrape]) -> [UInt8] {
        let total = scrapes.reduce(0) { $0 + $1.count }
        var out = BencodeWriter(reservingCapacity: 16 + total * 90)
        out.beginDictionary()
        out.key("files")
        out.beginDictionary()
        var next = [Int](repeating: 0, count: scrapes.count)
        while true {
            // The smallest hash at the head of any scrape, and every scrape that has it.
            var smallest: Int? = nil
            for s in scrapes.indices where next[s] < scrapes[s].count {
                if let current = smallest {
                    if scrapes[s].hash(next[s]).lexicographicallyPrecedes(scrapes[current].hash(next[current])) {
                        smallest = s
                    }
                } else {
                    smallest = s
                }
            }
            guard let first = smallest else { break }
            let hash = scrapes[first].hash(next[first])
            var counts = scrapes[first].counts[next[first]]
            next[first] += 1
            for s in scrapes.indices where s != first && next[s] < scrapes[s].count && scrapes[s].hash(next[s]) == hash {
                counts = larger(counts, scrapes[s].counts[next[s]])
                next[s] += 1
            }
            out.string(Array(hash))
            ScrapeResponse.encode(counts, into: &out)
        }
        out.end()
        out.end()
        return out.bytes
    }

    /// One torrent's counts on two hosts (see the type's comment).
    static func larger(_ a: SwarmCounts, _ b: SwarmCounts) -> SwarmCounts {
        SwarmCounts(
            seeders: max(a.seeders, b.seeders), leechers: max(a.leechers, b.leechers),
            downloaded: max(a.downloaded, b.downloaded), partialSeeds: max(a.partialSeeds, b.partialSeeds))
    }
}

extension Bencode.Parser {
    mutating func expect(_ byte: UInt8) throws(Bencode.DecodingError) {
        guard offset < input.count else { throw error("unexpected end") }
        guard input[offset] == byte else { throw error("expected \(Character(Unicode.Scalar(byte)))") }
        offset += 1
    }

    /// A dictionary key, which must come after `previous` in byte order (strict bencode).
    mutating func key(after previous: [UInt8]?) throws(Bencode.DecodingError) -> [UInt8] {
        guard offset < input.count, input[offset] >= UInt8(ascii: "0"), input[offset] <= UInt8(ascii: "9") else {
            throw error("dictionary key is not a string")
        }
        let key = try byteString()
        if let previous, !previous.lexicographicallyPrecedes(key) {
            throw error("dictionary keys not sorted or duplicated")
        }
        return key
    }
}
