import Foundation
import Testing
@testable import TrackerStore

@Suite struct SchemaTests {
    @Test func embeddedSchemaEqualsSchemaFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("schema.sql"), encoding: .utf8)
        #expect(Schema.sql == file, "schema.sql changed: run `make schema` to refresh Sources/TrackerStore/Schema.swift")
    }

    @Test func schemaIsIdempotentAndUsesWAL() throws {
        let fixture = try Fixture()
        _ = try SQLitePeerStore(path: fixture.path)  // applies the schema a second time
        #expect(try fixture.count("SELECT count(*) FROM sqlite_schema WHERE type = 'table'") == 11, "peers, torrents, unsaved_counts, facts, partial_seeds, totals, counters, full_scrape_clients, cache, sessions, ledger")
        let database = try Database(path: fixture.path, busyTimeoutMilliseconds: 100)
        let mode = try database.prepare("PRAGMA journal_mode")
        #expect(try mode.step())
        #expect(String(decoding: mode.blob(at: 0), as: UTF8.self) == "wal")
    }

    @Test func controlSchemaIsIdempotentAndSeparate() throws {
        let fixture = try Fixture(withControl: true)
        _ = try SQLiteControlStore(path: fixture.controlPath)
        let control = try Database(path: fixture.controlPath, busyTimeoutMilliseconds: 100)
        #expect(try control.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'") == 10, "torrents, torrent_hashes, client_rules, completed and the site's six")
        #expect(try control.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'peers'") == 0)
    }

    @Test func aMissingControlDirectorySaysWhatToDo() {
        #expect(SQLiteControlStore.directoryProblem("/nonexistent-shoal/control.db")?.contains("install -d") == true)
        #expect(throws: SQLiteError.self) { try SQLiteControlStore(path: "/nonexistent-shoal/control.db") }
    }

    @Test func unwritableDirectoryIsReported() {
        #expect(throws: SQLiteError.self) { try SQLitePeerStore(path: "/proc/shoal-cannot-be-here/peers.db") }
    }
}
