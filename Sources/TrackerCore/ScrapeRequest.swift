/// A parsed `/scrape` query (BEP 48): every `info_hash` value, in order, duplicates removed.
///
/// An empty list means a full scrape, which `Tracker` refuses for now.
public struct ScrapeRequest: Equatable, Sendable {
    public var infoHashes: [InfoHash]

    public init(infoHashes: [InfoHash]) { self.infoHashes = infoHashes }

    /// Throws `.malformedInfoHash` for any value that is not 20 bytes, and `.tooManyInfoHashes`
    /// when more than `limit` distinct hashes are asked for.
    public init(query: [UInt8], limit: Int) throws(TrackerFailure) {
        var hashes: [InfoHash] = []
        var seen = Set<InfoHash>()
        for item in QueryString(query) where item.keyIs("info_hash") {
            guard let hash = InfoHash(try percentDecoded(item.value)) else { throw .malformedInfoHash }
            if seen.insert(hash).inserted {
                guard hashes.count < limit else { throw .tooManyInfoHashes(limit: limit) }
                hashes.append(hash)
            }
        }
        infoHashes = hashes
    }
}
