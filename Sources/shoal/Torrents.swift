import ArgumentParser
import Foundation
import TrackerCore
import TrackerStore

/// `shoal torrents`: the torrent list of a closed tracker (or the banned list of a blacklist).
struct Torrents: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the torrent list in the control database (access = whitelist or blacklist).",
        discussion: """
            Changes are live on the next request of every responder: no restart, no signal. Every \
            command applies what it can in one transaction, prints one line for each item it \
            refuses, and then exits 1. Run it as the tracker's user (or as root: a control \
            database root creates is given to the owner of its directory).
            """,
        subcommands: [Add.self, Remove.self, List.self, Import.self, Export.self, Sync.self]
    )

    /// The control database, and the torrents the command line names.
    static func open(_ options: TrackerOptions, reading items: [String]) throws -> (SQLiteControlStore, TorrentInput) {
        let (control, _) = try ControlCommand.open(options)
        var input = TorrentInput(now: ControlCommand.now)
        input.read(items)
        return (control, input)
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register torrents: 40-hex info_hashes, .torrent files, or directories of .torrent files.",
            discussion: """
                A .torrent file registers its v1 hash, and for BitTorrent v2 and hybrid torrents its \
                v2 hash truncated to 20 bytes (what v2 clients announce), with its name, size, file \
                count and bytes. A file whose hash is registered as a bare hash completes that entry.
                """)

        @OptionGroup var options: TrackerOptions
        @Argument(help: "info_hashes (40 hex digits), .torrent files or directories") var items: [String]

        func run() throws {
            let (control, input) = try Torrents.open(options, reading: items)
            var lines: [String] = []
            try ControlCommand.apply(control) {
                for torrent in input.torrents {
                    let named = torrent.hashes[0].infoHash.hex + (torrent.name.map { " " + $0 } ?? "")
                    switch try control.register(torrent) {
                    case .added: lines.append("added \(named)")
                    case .completed: lines.append("added \(named) (was a bare hash)")
                    case .alreadyRegistered: lines.append("already registered \(named)")
                    }
                }
            }
            lines.forEach { print($0) }
            try ControlCommand.finish(refusals: input.refusals)
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take torrents off the list: info_hashes, .torrent files or directories of them.",
            discussion: "Any one hash of a torrent removes the whole torrent (its v1 and v2 hashes).")

        @OptionGroup var options: TrackerOptions
        @Argument(help: "info_hashes (40 hex digits), .torrent files or directories") var items: [String]

        func run() throws {
            let (control, input) = try Torrents.open(options, reading: items)
            var lines: [String] = []
            var refusals = input.refusals
            try ControlCommand.apply(control) {
                for torrent in input.torrents {
                    var removed = false
                    for hash in torrent.hashes where !removed {
                        removed = try control.unregister(hash.infoHash)
                    }
                    let hash = torrent.hashes[0].infoHash.hex
                    if removed { lines.append("removed \(hash)") } else { refusals.append("\(hash): not registered") }
                }
            }
            lines.forEach { print($0) }
            try ControlCommand.finish(refusals: refusals)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the list: hash, size, files, when added, live seeders, leechers and downloaded, name.",
            discussion: """
                Live figures come from the peers database (database), summed over a torrent's v1 and \
                v2 swarms; downloaded falls back to the count saved in the control database.
                """)

        @OptionGroup var options: TrackerOptions
        @Flag(help: "One JSON array of objects instead of a table.") var json = false

        func run() throws {
            let (control, resolved) = try ControlCommand.open(options)
            let live = try LiveCounts(peersDatabase: resolved.configuration.database, control: control)
            var rows: [[String: Any]] = []
            if !json { print("HASH\tSIZE\tFILES\tADDED\tSEEDERS\tLEECHERS\tDOWNLOADED\tNAME") }
            try control.torrents { torrent in
                let counts = try live.counts(torrent.hashes.map(\.infoHash))
                if json {
                    var row: [String: Any] = [
                        "info_hash": torrent.hashes[0].infoHash.hex,
                        "hashes": torrent.hashes.map { ["info_hash": $0.infoHash.hex, "version": $0.version] },
                        "added": isoDate(torrent.added), "seeders": counts.seeders, "leechers": counts.leechers,
                        "downloaded": counts.downloaded,
                    ]
                    row["name"] = torrent.name
                    row["size"] = torrent.size
                    row["files"] = torrent.files
                    row["origin"] = torrent.origin
                    rows.append(row)
                } else {
                    let size = torrent.size.map(String.init) ?? "-"
                    let files = torrent.files.map(String.init) ?? "-"
                    print("""
                        \(torrent.hashes[0].infoHash.hex)\t\(size)\t\(files)\t\(isoDate(torrent.added))\t\
                        \(counts.seeders)\t\(counts.leechers)\t\(counts.downloaded)\t\(torrent.name ?? "-")
                        """)
                }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register the hashes of an opentracker access list (one 40-hex hash per line; - for stdin).",
            discussion: "Blank lines and lines starting with # are skipped; text after a hash and a space is ignored.")

        @OptionGroup var options: TrackerOptions
        @Argument(help: "the list file, or - for standard input") var file: String

        func run() throws {
            let (control, _) = try ControlCommand.open(options)
            let text: String
            do {
                let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                    : try Data(contentsOf: URL(fileURLWithPath: file))
                text = String(decoding: data, as: UTF8.self)
            } catch {
                printError("\(file): cannot read (\(describe(error)))")
                throw ExitCode(1)
            }
            let list = AccessListFile.parse(text, name: file)
            let now = ControlCommand.now
            var added = 0
            try ControlCommand.apply(control) {
                for hash in list.hashes
                where try control.register(RegisteredTorrent(hashes: [TorrentHash(hash, version: 0)], added: now)) == .added {
                    added += 1
                }
            }
            print("imported \(added) new of \(list.hashes.count) hashes from \(file)")
            try ControlCommand.finish(refusals: list.refusals)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every registered hash, one per line, as opentracker's access list reads them.")

        @OptionGroup var options: TrackerOptions

        func run() throws {
            let (control, _) = try ControlCommand.open(options)
            var hashes: [String] = []
            try control.torrents { torrent in hashes += torrent.hashes.map(\.infoHash.hex) }
            print("# shoal torrents export, \(isoDate(ControlCommand.now)): \(hashes.count) hashes")
            hashes.forEach { print($0) }
        }
    }
}

/// An opentracker access list: one 40-hex info_hash per line.
enum AccessListFile {
    static func parse(_ text: String, name: String) -> (hashes: [InfoHash], refusals: [String]) {
        var hashes: [InfoHash] = []
        var refusals: [String] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let token = String(line.prefix { !$0.isWhitespace })
            guard let hash = InfoHash(hex: token) else {
                refusals.append("\(name):\(index + 1): not a 40-hex info_hash: \(Printable.escaped(Array(token.prefix(80).utf8)))")
                continue
            }
            hashes.append(hash)
        }
        return (hashes, refusals)
    }
}

/// The live counts `list` shows: from the peers database when it exists (opened read-only, so a
/// command never creates it with the wrong owner), else the counts saved in the control database.
struct LiveCounts {
    private let saved: Statement
    /// Kept open as long as its statement.
    private let peers: Database?
    private let swarm: Statement?

    init(peersDatabase: String, control: SQLiteControlStore) throws {
        saved = try control.database.prepare("SELECT downloaded FROM completed WHERE info_hash = ?1")
        peers = FileManager.default.fileExists(atPath: peersDatabase)
            ? try? Database(path: peersDatabase, busyTimeoutMilliseconds: 2000, readOnly: true) : nil
        swarm = try? peers?.prepare("SELECT seeders, leechers, downloaded FROM torrents WHERE info_hash = ?1")
    }

    func counts(_ hashes: [InfoHash]) throws -> SwarmCounts {
        var total = SwarmCounts()
        for hash in hashes {
            saved.bind(hash.bytes, at: 1)
            var downloaded = try saved.step() ? saved.int64(at: 0) : 0
            saved.reset()
            if let swarm {
                swarm.bind(hash.bytes, at: 1)
                if try swarm.step() {
                    total.seeders += Int(swarm.int64(at: 0))
                    total.leechers += Int(swarm.int64(at: 1))
                    downloaded = max(downloaded, swarm.int64(at: 2))
                }
                swarm.reset()
            }
            total.downloaded += Int(downloaded)
        }
        return total
    }
}
