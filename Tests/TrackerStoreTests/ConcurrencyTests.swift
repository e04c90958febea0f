import Foundation
import Testing
import TrackerCore
import TrackerStore

@Suite struct ConcurrencyTests {
    /// Several connections (as several worker processes would hold) write one file at once;
    /// every announce lands and the counts agree with the rows.
    @Test func concurrentWritersLoseNothing() throws {
        let f = try Fixture()
        let writers = 4
        let perWriter = 150
        let path = f.path
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            do {
                let store = try SQLitePeerStore(path: path, busyTimeoutMilliseconds: 10_000)
                let tracker = Tracker(store: store, policy: Policy(), clock: { 1_700_000_000 }, random: FastRandom(seed: UInt64(writer)), log: { _ in })
                for i in 0..<perWriter {
                    let peer = writer * perWriter + i
                    let query = "info_hash=\(percentEncoded(twenty(i % 3, tag: 0xaa)))&peer_id=\(percentEncoded(twenty(peer)))"
                        + "&port=\(1 + peer)&left=\(peer % 2)&event=completed"
                    let response = tracker.respond(to: TrackerRequest(path: "/announce", query: query, remoteAddress: "10.1.\(peer >> 8).\(peer & 0xff)"))
                    if response.status != 200 || (try? Bencode.decode(response.body))?["failure reason"] != nil {
                        failures.withLock { $0 += 1 }
                    }
                }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(try f.count("SELECT count(*) FROM peers") == Int64(writers * perWriter))
        #expect(try f.count("SELECT sum(seeders) FROM torrents") == f.count("SELECT count(*) FROM peers WHERE complete = 1"))
        #expect(try f.count("SELECT sum(leechers) FROM torrents") == f.count("SELECT count(*) FROM peers WHERE complete = 0"))
        #expect(try f.count("SELECT sum(downloaded) FROM torrents") == Int64(writers * perWriter / 2))
    }
}

/// A lock-protected value for counting across `concurrentPerform` threads.
final class Mutex<Value>: @unchecked Sendable {  // the lock guards every access to `value`
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
