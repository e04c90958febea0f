import Metainfo
import Testing
import TrackerCore

/// Expected hashes were computed with Python's hashlib over the same bytes.
@Suite struct TorrentMetainfoTests {
    static let v1Info = bytes("d6:lengthi5e4:name5:hello12:piece lengthi16384e6:pieces20:") + Array(repeating: 1, count: 20) + bytes("e")
    static let v2Info = bytes("d9:file treed5:hellod0:d6:lengthi5e11:pieces root32:") + Array(repeating: 2, count: 32)
        + bytes("eee12:meta versioni2e4:name5:hello12:piece lengthi16384ee")

    static func torrent(info: [UInt8]) -> [UInt8] {
        bytes("d8:announce30:http://127.0.0.1:6969/announce4:info") + info + bytes("e")
    }

    @Test func v1HashIsTheSHA1OfTheInfoBytesAsTheyAppearInTheFile() throws {
        let metainfo = try TorrentMetainfo(bytes: Self.torrent(info: Self.v1Info))
        #expect(metainfo.v1Hash == InfoHash(hex: "a2d3a0d6731a136c9b8bb01f1399753d89f801ee"))
        #expect(metainfo.v2Hash == nil)
        #expect(metainfo.name == "hello")
        #expect(metainfo.totalSize == 5)
        #expect(metainfo.fileCount == 1)
    }

    @Test func v2HashIsTheSHA256TruncatedTo20Bytes() throws {
        let metainfo = try TorrentMetainfo(bytes: Self.torrent(info: Self.v2Info))
        #expect(metainfo.v1Hash == nil)
        #expect(metainfo.v2Hash == InfoHash(hex: "9237fc98b3e1e10609fd514fda49a68537e4d981"))
        #expect(metainfo.infoHashes.count == 1)
        #expect(metainfo.totalSize == 5 && metainfo.fileCount == 1)
    }

    @Test func multiFileSizesLeavePaddingFilesOut() throws {
        let info = bytes("d5:filesl")
            + bytes("d6:lengthi3e4:pathl1:aee")
            + bytes("d4:attr1:p6:lengthi16381e4:pathl4:.pad5:16381ee")
            + bytes("d6:lengthi7e4:pathl3:dir1:bee")
            + bytes("e4:name3:set12:piece lengthi16384e6:pieces20:") + Array(repeating: 0, count: 20) + bytes("e")
        let metainfo = try TorrentMetainfo(bytes: Self.torrent(info: info))
        #expect(metainfo.totalSize == 10)
        #expect(metainfo.fileCount == 2)
    }

    @Test func aNameThatIsNotUTF8IsShownEscaped() throws {
        let info = bytes("d6:lengthi1e4:name4:a\u{7}") + [0xff, 0x5c] + bytes("12:piece lengthi1e6:pieces20:")
            + Array(repeating: 0, count: 20) + bytes("e")
        let metainfo = try TorrentMetainfo(bytes: Self.torrent(info: info))
        #expect(metainfo.name == "a\\x07\\xff\\x5c")
    }

    @Test func badFilesAreRefusedWithAReason() {
        let cases: [([UInt8], String)] = [
            (Array(Self.torrent(info: Self.v1Info).dropLast(7)), "not valid bencoding"),
            (bytes("garbage"), "not valid bencoding"),
            (bytes("li1ee"), "not a dictionary"),
            (bytes("d4:infoi1ee"), "no info dictionary"),
            (Self.torrent(info: bytes("d6:lengthi1e12:piece lengthi1e6:pieces20:") + Array(repeating: 0, count: 20) + bytes("e")), "no name"),
            (Self.torrent(info: bytes("d6:lengthi1e4:name1:a12:piece lengthi1e6:pieces3:abce")), "multiple of 20"),
            (Self.torrent(info: bytes("d4:name1:a12:piece lengthi1ee")), "neither pieces"),
            (Self.torrent(info: bytes("d12:meta versioni3e4:name1:ae")), "unsupported meta version"),
        ]
        for (input, problem) in cases {
            do {
                _ = try TorrentMetainfo(bytes: input)
                Issue.record("accepted: \(problem)")
            } catch {
                #expect(error.description.contains(problem), "\(error.description)")
            }
        }
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
