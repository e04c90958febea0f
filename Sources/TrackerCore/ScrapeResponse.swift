/// The body of a scrape reply (BEP 48).
public struct ScrapeResponse: Equatable, Sendable {
    public var files: [(InfoHash, SwarmCounts)]
    /// Sent as `flags.min_request_interval`: how often a client may scrape.
    public var minRequestInterval: Int

    public init(files: [(InfoHash, SwarmCounts)], minRequestInterval: Int) {
        self.files = files
        self.minRequestInterval = minRequestInterval
    }

    public static func == (lhs: ScrapeResponse, rhs: ScrapeResponse) -> Bool {
        lhs.minRequestInterval == rhs.minRequestInterval && lhs.files.elementsEqual(rhs.files) { $0 == $1 }
    }

    /// One swarm's entry in `files` (BEP 48, with BEP 21 `downloaders`), for scrapes and full scrapes.
    public static func encode(_ counts: SwarmCounts, into out: inout BencodeWriter) {
        out.beginDictionary()
        out.key("complete")
        out.integer(counts.seeders)
        out.key("downloaded")
        out.integer(counts.downloaded)
        out.key("downloaders")  // BEP 21
        out.integer(counts.downloaders)
        out.key("incomplete")
        out.integer(counts.leechers)
        out.end()
    }

    /// `files` is keyed by the raw 20-byte hash, sorted as bytes (BEP 3).
    public func encode(into out: inout BencodeWriter) {
        out.beginDictionary()
        out.key("files")
        out.beginDictionary()
        for (hash, counts) in files.sorted(by: { $0.0.bytes.lexicographicallyPrecedes($1.0.bytes) }) {
            out.string(hash.bytes)
            Self.encode(counts, into: &out)
        }
        out.end()
        out.key("flags")
        out.beginDictionary()
        out.key("min_request_interval")
        out.integer(minRequestInterval)
        out.end()
        out.end()
    }
}
