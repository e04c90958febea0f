import Testing
import TrackerCore

@Suite struct ScrapeRequestTests {
    @Test func collectsEveryInfoHashOnceInOrder() throws {
        let b = twentyBytes(7)
        let query = "info_hash=\(percentEncoded(hashA.bytes))&info_hash=\(percentEncoded(b))&info_hash=\(percentEncoded(hashA.bytes))"
        let request = try ScrapeRequest(query: bytes(query), limit: 64)
        #expect(request.infoHashes == [hashA, InfoHash(b)!])
    }

    @Test func emptyQueryMeansFullScrape() throws {
        #expect(try ScrapeRequest(query: [], limit: 64).infoHashes.isEmpty)
    }

    @Test func refusesShortHashesAndTooMany() {
        #expect(throws: TrackerFailure.malformedInfoHash) { try ScrapeRequest(query: bytes("info_hash=abc"), limit: 64) }
        let three = (1...3).map { "info_hash=\(percentEncoded(twentyBytes(UInt8($0))))" }.joined(separator: "&")
        #expect(throws: TrackerFailure.tooManyInfoHashes(limit: 2)) { try ScrapeRequest(query: bytes(three), limit: 2) }
    }
}
