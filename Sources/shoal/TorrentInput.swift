import Foundation
import Metainfo
import TrackerCore
import TrackerStore

/// Turns what an operator names on the command line (a 40-hex hash, a .torrent file, a directory
/// of them) into torrents to register, and says what it cannot use, one line per item.
struct TorrentInput {
    /// .torrent files larger than this are refused unread: even a torrent of many terabytes with
    /// small pieces stays well below it.
    static let maxFileBytes = 64 << 20

    var torrents: [RegisteredTorrent] = []
    /// "ITEM: problem" lines.
    var refusals: [String] = []
    let now: Int64

    init(now: Int64) { self.now = now }

    /// Reads every item; a directory contributes the `.torrent` files directly inside it.
    mutating func read(_ items: [String]) {
        for item in items {
            if let hash = InfoHash(hex: item) {
                torrents.append(RegisteredTorrent(hashes: [TorrentHash(hash, version: 0)], added: now))
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: item, isDirectory: &isDirectory) else {
                refusals.append(item.allSatisfy(\.isHexDigit)
                    ? "\(item): an info_hash is 40 hexadecimal digits (got \(item.count))"
                    : "\(item): no such file, and not a 40-hex info_hash")
                continue
            }
            if isDirectory.boolValue {
                readDirectory(item)
            } else {
                readFile(item)
            }
        }
    }

    private mutating func readDirectory(_ directory: String) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            refusals.append("\(directory): cannot list the directory (\(describe(error)))")
            return
        }
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard name.hasSuffix(".torrent") else {
                refusals.append("\(path): not a .torrent file (only *.torrent files in a directory are read)")
                continue
            }
            readFile(path)
        }
    }

    /// Reads one .torrent file; nil (with a refusal noted) if it cannot be used.
    @discardableResult
    mutating func readFile(_ path: String, origin: String? = nil, originSeen: String? = nil) -> RegisteredTorrent? {
        switch Self.load(path) {
        case .failure(let problem):
            refusals.append("\(path): \(problem)")
            return nil
        case .success(let metainfo):
            var hashes: [TorrentHash] = []
            if let v1 = metainfo.v1Hash { hashes.append(TorrentHash(v1, version: 1)) }
            if let v2 = metainfo.v2Hash { hashes.append(TorrentHash(v2, version: 2)) }
            let torrent = RegisteredTorrent(
                hashes: hashes, name: metainfo.name, size: metainfo.totalSize, files: Int64(metainfo.fileCount),
                added: now, metainfo: metainfo.bytes, origin: origin, originSeen: originSeen)
            torrents.append(torrent)
            return torrent
        }
    }

    struct Problem: Error { let text: String }

    static func load(_ path: String) -> Result<TorrentMetainfo, Problem> {
        let bytes: [UInt8]
        // Only regular files (a symbolic link to one is fine): reading a FIFO someone left in a
        // synced directory would wait forever, a device forever more.
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(Problem(text: "cannot read (\(String(cString: strerror(errno))))")) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(Problem(text: "a directory inside a directory (not descended)"))
        default: return .failure(Problem(text: "not a regular file"))
        }
        guard info.st_size <= maxFileBytes else {
            return .failure(Problem(text: "larger than \(maxFileBytes >> 20) MiB, not a .torrent file"))
        }
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            return .failure(Problem(text: "cannot read (\(describe(error)))"))
        }
        do {
            return .success(try TorrentMetainfo(bytes: bytes))
        } catch {
            return .failure(Problem(text: error.description))
        }
    }
}

/// An error's message without Foundation's wrapping.
func describe(_ error: any Error) -> String {
    if let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return (error as NSError).localizedDescription
}
