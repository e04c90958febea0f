import Crypto
import TrackerCore

/// What a tracker needs from a `.torrent` file (BEP 3, BEP 52): the hashes clients announce with,
/// and a name, size and file count to show an operator.
///
/// The info_hash is the hash of the `info` value's bytes exactly as they appear in the file:
/// re-encoding a decoded dictionary would give another hash for any file that is not canonical
/// bencoding, and the strict decoder refuses those anyway. Hashes come from swift-crypto.
public struct TorrentMetainfo: Sendable {
    /// SHA-1 of the info dictionary: what v1 and hybrid torrents are announced with.
    public let v1Hash: InfoHash?
    /// SHA-256 of the info dictionary truncated to 20 bytes: what v2 clients announce a v2 or
    /// hybrid torrent with (BEP 52).
    public let v2Hash: InfoHash?
    /// `info.name`, readable: invalid UTF-8 and control characters escaped (`Printable.escaped`).
    public let name: String
    /// The sum of the file lengths (padding files of hybrid torrents left out).
    public let totalSize: Int64
    public let fileCount: Int
    /// The file as read, to serve later.
    public let bytes: [UInt8]

    /// Every hash the torrent is announced with: the v1 hash first.
    public var infoHashes: [InfoHash] { [v1Hash, v2Hash].compactMap { $0 } }

    /// Reads a `.torrent` file's bytes, or says what is wrong with them in a few words.
    public init(bytes: [UInt8]) throws(MetainfoError) {
        let root: Bencode
        let spans: [[UInt8]: Range<Int>]
        do {
            (root, spans) = try Bencode.decodeWithTopLevelSpans(bytes)
        } catch {
            throw MetainfoError("not valid bencoding (\(error.problem) at byte \(error.offset))")
        }
        guard case .dictionary = root else { throw MetainfoError("not a torrent: the file is not a dictionary") }
        guard let info = root["info"], case .dictionary = info, let span = spans[Array("info".utf8)] else {
            throw MetainfoError("not a torrent: no info dictionary")
        }
        guard let name = info["name"]?.bytesValue else { throw MetainfoError("the info dictionary has no name") }

        let isV2: Bool
        switch info["meta version"] {
        case nil: isV2 = false
        case .integer(2)?: isV2 = true
        default: throw MetainfoError("unsupported meta version (only 1 and 2 exist)")
        }
        let isV1 = info["pieces"] != nil
        guard isV1 || isV2 else { throw MetainfoError("the info dictionary has neither pieces (v1) nor meta version 2") }

        let layout: (size: Int64, files: Int)
        if isV2 {
            guard let tree = info["file tree"], case .dictionary = tree else {
                throw MetainfoError("a v2 torrent needs a file tree")
            }
            layout = try Self.walk(tree: tree)
        } else {
            layout = try Self.v1Layout(info)
        }
        if isV1 {
            guard let pieces = info["pieces"]?.bytesValue, pieces.count % 20 == 0 else {
                throw MetainfoError("pieces is not a multiple of 20 bytes")
            }
            if isV2 { _ = try Self.v1Layout(info) }  // a hybrid's v1 half must be readable too
        }
        guard (info["piece length"]?.integerValue ?? 0) > 0 else {
            throw MetainfoError("piece length is missing or not positive")
        }

        let infoBytes = bytes[span]
        v1Hash = isV1 ? InfoHash(Array(Insecure.SHA1.hash(data: infoBytes))) : nil
        v2Hash = isV2 ? InfoHash(Array(SHA256.hash(data: infoBytes).prefix(20))) : nil
        self.name = Printable.escaped(name)
        totalSize = layout.size
        fileCount = layout.files
        self.bytes = bytes
    }

    /// Size and file count from `length` (one file) or `files` (several), padding files left out.
    private static func v1Layout(_ info: Bencode) throws(MetainfoError) -> (size: Int64, files: Int) {
        if let length = info["length"] {
            guard let value = length.integerValue, value >= 0 else { throw MetainfoError("length is not a size") }
            return (value, 1)
        }
        guard case .list(let files)? = info["files"] else { throw MetainfoError("neither length nor files is given") }
        var size: Int64 = 0
        var count = 0
        for file in files {
            guard let length = file["length"]?.integerValue, length >= 0, case .list? = file["path"] else {
                throw MetainfoError("a file entry lacks its length or path")
            }
            if file["attr"]?.bytesValue?.contains(UInt8(ascii: "p")) == true { continue }
            let (sum, overflow) = size.addingReportingOverflow(length)
            guard !overflow else { throw MetainfoError("the file lengths add up past 2^63") }
            size = sum
            count += 1
        }
        return (size, count)
    }

    /// Size and file count of a v2 `file tree`: a file is a dictionary under the empty key.
    private static func walk(tree: Bencode) throws(MetainfoError) -> (size: Int64, files: Int) {
        guard case .dictionary(let entries) = tree else { throw MetainfoError("the file tree holds a non-dictionary") }
        var size: Int64 = 0
        var count = 0
        for (key, child) in entries {
            let part: (size: Int64, files: Int)
            if key.isEmpty {
                guard let length = child["length"]?.integerValue, length >= 0 else {
                    throw MetainfoError("a file in the file tree lacks its length")
                }
                part = (length, 1)
            } else {
                part = try walk(tree: child)
            }
            let (sum, overflow) = size.addingReportingOverflow(part.size)
            guard !overflow else { throw MetainfoError("the file lengths add up past 2^63") }
            size = sum
            count += part.files
        }
        return (size, count)
    }
}

/// Why a `.torrent` file cannot be used, in a few words.
public struct MetainfoError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
