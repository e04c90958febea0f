import Testing
import TrackerCore

@Suite struct FullScrapeMergeTests {
    /// A host's full scrape as Shoal writes one (the same encoder as the store's).
    func hostScrape(_ swarms: [(UInt8, SwarmCounts)]) -> [UInt8] {
        var out = BencodeWriter()
        out.beginDictionary()
        out.key("files")
        out.beginDictionary()
        for (first, counts) in swarms.sorted(by: { $0.0 < $1.0 }) {
            out.string(hash(first))
            ScrapeResponse.encode(counts, into: &out)
        }
        out.end()
        out.end()
        return out.bytes
    }

    func hash(_ first: UInt8) -> [UInt8] { [first] + [UInt8](repeating: 7, count: 19) }

    func merged(_ hosts: [[UInt8]]) throws -> [UInt8] {
        FullScrapeMerge.merge(try hosts.map { try FullScrapeMerge.read($0) })
    }

    @Test func disjointHostsMergeToWhatOneTrackerWouldWrite() throws {
        let a = SwarmCounts(seeders: 3, leechers: 5, downloaded: 9, partialSeeds: 2)
        let b = SwarmCounts(seeders: 1)
        let c = SwarmCounts(leechers: 4, downloaded: 1)
        let d = SwarmCounts(seeders: 7, leechers: 1, downloaded: 70)
        let hosts = [hostScrape([(0x10, a), (0xf0, d)]), hostScrape([(0x01, b)]), hostScrape([(0x80, c)])]
        #expect(try merged(hosts) == hostScrape([(0x01, b), (0x10, a), (0x80, c), (0xf0, d)]))
    }

    @Test func aTorrentOnTwoHostsGetsTheLargerOfEachCount() throws {
        let before = SwarmCounts(seeders: 9, leechers: 1, downloaded: 40, partialSeeds: 0)
        let after = SwarmCounts(seeders: 2, leechers: 6, downloaded: 41, partialSeeds: 3)
        let expected = SwarmCounts(seeders: 9, leechers: 6, downloaded: 41, partialSeeds: 3)
        let hosts = [hostScrape([(0x20, before), (0x30, SwarmCounts(seeders: 1))]), hostScrape([(0x20, after)])]
        #expect(try merged(hosts) == hostScrape([(0x20, expected), (0x30, SwarmCounts(seeders: 1))]))
    }

    @Test func emptyHostsAndNoHostsMergeToAnEmptyFullScrape() throws {
        #expect(try merged([bytes("d5:filesdee"), bytes("d5:filesdee")]) == bytes("d5:filesdee"))
        #expect(try merged([]) == bytes("d5:filesdee"))
    }

    @Test func otherKeysAreSkipped() throws {
        var host = bytes("d5:filesd20:")
        host += hash(1)
        host += bytes("d8:completei2e5:extrali1ee10:incompletei1e1:zd1:ai1eeee5:flagsd20:min_request_intervali60eee")
        #expect(try merged([host]) == hostScrape([(1, SwarmCounts(seeders: 2, leechers: 1))]))
    }

    @Test(arguments: [
        ("d14:failure reason24:full scrape is disabled.e", "the host refused: full scrape is disabled."),
        ("d5:filesd3:abcd8:completei1eeee", "an info_hash of 3 bytes, not 20"),
        ("d5:filesdeexx", "trailing bytes"),
        ("d5:flagsdee", "no files dictionary: not a full scrape"),
        ("d5:filesd", "unterminated list or dictionary"),
        ("", "unexpected end"),
        ("<html>502 Bad Gateway</html>", "expected d"),
    ])
    func refusesWhatIsNotAFullScrape(input: String, problem: String) {
        #expect(throws: Bencode.DecodingError.self) { try FullScrapeMerge.read(bytes(input)) }
        do {
            _ = try FullScrapeMerge.read(bytes(input))
        } catch {
            #expect(error.problem == problem)
        }
    }

    @Test func refusesHashesOutOfOrderRepeatedOrWithBadCounts() {
        let entry = { (first: UInt8, counts: String) -> [UInt8] in bytes("20:") + self.hash(first) + bytes(counts) }
        let good = "d8:completei1ee"
        let outOfOrder = bytes("d5:filesd") + entry(2, good) + entry(1, good) + bytes("ee")
        let repeated = bytes("d5:filesd") + entry(1, good) + entry(1, good) + bytes("ee")
        let negative = bytes("d5:filesd") + entry(1, "d8:completei-1ee") + bytes("ee")
        let text = bytes("d5:filesd") + entry(1, "d8:complete1:xe") + bytes("ee")
        for input in [outOfOrder, repeated] {
            #expect(throws: Bencode.DecodingError.self) { try FullScrapeMerge.read(input) }
        }
        for input in [negative, text] {
            do {
                _ = try FullScrapeMerge.read(input)
                Issue.record("accepted a bad count")
            } catch {
                #expect(error.problem == "a count that is not an integer from 0 to 2^31-1")
            }
        }
    }
}
