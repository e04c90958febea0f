import Foundation
import TrackerCore
import TrackerStore

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func percentEncoded(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%%%02X", $0) }.joined()
}

/// A 20-byte value built from a small number, so tests can name hashes and peer IDs.
func twenty(_ n: Int, tag: UInt8 = 0) -> [UInt8] {
    [tag] + Array(repeating: 0, count: 15) + [UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
}

/// A fresh database file in its own temporary directory, a real `Tracker` over it and a clock
/// the test moves by hand.
final class Fixture {
    let directory: URL
    let path: String
    var now: Int64 = 1_700_000_000
    var logs: [String] = []
    private(set) var store: SQLitePeerStore!
    private(set) var tracker: Tracker!
    /// The control database beside the peers database, when asked for.
    private(set) var control: SQLiteControlStore?

    init(
        policy: Policy = Policy(), busyTimeoutMilliseconds: Int = 2000, seed: UInt64 = 1, limits: StoreLimits = StoreLimits(),
        withControl: Bool = false
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("peers.db").path
        store = try SQLitePeerStore(
            path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, limits: limits,
            log: { [unowned self] in self.logs.append($0) })
        if withControl { control = try SQLiteControlStore(path: controlPath) }
        tracker = Tracker(
            store: store, accessList: control, policy: policy, clock: { [unowned self] in self.now }, random: FastRandom(seed: seed),
            log: { [unowned self] in self.logs.append($0) })
    }

    var controlPath: String { directory.appendingPathComponent("control.db").path }

    /// The hash `announce(torrent:)` uses for torrent `n`.
    static func infoHash(_ n: Int) -> InfoHash { InfoHash(twenty(n, tag: 0xaa))! }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Announces peer `peer` of torrent `torrent` from `address` and returns the decoded reply.
    @discardableResult
    func announce(
        torrent: Int = 1, peer: Int, address: String? = nil, port: Int? = nil, left: Int = 100,
        event: String? = nil, extra: String = ""
    ) throws -> Bencode {
        let response = announceResponse(
            torrent: torrent, peer: peer, address: address, port: port, left: left, event: event, extra: extra)
        return try Bencode.decode(response.body)
    }

    /// The same announce, as the HTTP status and body.
    func announceResponse(
        torrent: Int = 1, peer: Int, address: String? = nil, port: Int? = nil, left: Int = 100,
        event: String? = nil, extra: String = ""
    ) -> TrackerResponse {
        var query = "info_hash=\(percentEncoded(twenty(torrent, tag: 0xaa)))&peer_id=\(percentEncoded(twenty(peer, tag: 0x2d)))"
        query += "&port=\(port ?? 1000 + peer)&left=\(left)"
        if let event { query += "&event=\(event)" }
        query += extra
        // Each peer its own address unless told otherwise, as on the internet (one address may
        // have only a few peers in a swarm: StoreLimits.maxPeersPerAddress).
        let remote = address ?? "10.\(peer >> 16 & 0xff).\(peer >> 8 & 0xff).\(peer & 0xff)"
        return tracker.respond(to: TrackerRequest(path: "/announce", query: query, remoteAddress: remote))
    }

    func respond(path: String, query: String, remoteAddress: String? = "10.0.0.1") -> TrackerResponse {
        tracker.respond(to: TrackerRequest(path: path, query: query, remoteAddress: remoteAddress))
    }

    func scrape(_ torrents: [Int]) throws -> Bencode {
        let query = torrents.map { "info_hash=\(percentEncoded(twenty($0, tag: 0xaa)))" }.joined(separator: "&")
        return try Bencode.decode(respond(path: "/scrape", query: query).body)
    }

    /// Runs a counting query on a second connection, as another process would see the file.
    func count(_ sql: String) throws -> Int64 {
        let other = try Database(path: path, busyTimeoutMilliseconds: 2000)
        return try other.scalar(sql) ?? -1
    }
}

/// The compact IPv4 peers of a reply as (address bytes, port) endpoints.
func compactPeers(_ reply: Bencode, key: String = "peers") -> [[UInt8]] {
    guard let packed = reply[key]?.bytesValue else { return [] }
    let size = key == "peers" ? 6 : 18
    return stride(from: 0, to: packed.count, by: size).map { Array(packed[$0..<min($0 + size, packed.count)]) }
}

func ports(_ reply: Bencode, key: String = "peers") -> Set<Int> {
    Set(compactPeers(reply, key: key).map { Int($0[$0.count - 2]) << 8 | Int($0[$0.count - 1]) })
}
