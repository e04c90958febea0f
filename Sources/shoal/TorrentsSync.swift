import ArgumentParser
import Foundation
import TrackerStore

extension Torrents {
    /// The reference tracker's `--allowed_dir`, made safe to run from cron while responders serve.
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the list follow a directory of .torrent files: add new ones, remove those whose file is gone.",
            discussion: """
                Only entries sync added from this directory are ever removed; torrents registered \
                otherwise are left alone, and a file whose torrent is registered already changes \
                nothing. Files not named *.torrent are ignored. A file is read again only when its \
                size or modification time changed. Idempotent; one transaction per run.
                """)

        @OptionGroup var options: TrackerOptions
        @Argument(help: "the directory of .torrent files") var directory: String

        func run() throws {
            let (control, _) = try ControlCommand.open(options)
            let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: absolute).filter { $0.hasSuffix(".torrent") }.sorted()
            } catch {
                printError("\(absolute): cannot list the directory (\(describe(error))); nothing was changed")
                throw ExitCode(1)
            }
            // Files are read and hashed before the write transaction, so that a first sync of many
            // files does not hold the control database's write lock meanwhile.
            var input = TorrentInput(now: ControlCommand.now)
            var remaining: [String: (id: Int64, seen: String?)] = [:]
            for entry in try control.torrents(fromDirectory: absolute) { remaining[entry.origin] = (entry.id, entry.seen) }
            var changed: [(previous: Int64?, torrent: RegisteredTorrent)] = []
            var unchanged = 0
            for name in names {
                let path = absolute + "/" + name
                let seen = Self.stamp(path)
                let previous = remaining.removeValue(forKey: path)
                if let previous, previous.seen == seen {
                    unchanged += 1
                    continue
                }
                // A file that cannot be read keeps what it registered before: nothing half-applied.
                guard let torrent = input.readFile(path, origin: path, originSeen: seen) else { continue }
                changed.append((previous?.id, torrent))
            }
            var added = 0
            var removed = 0
            try ControlCommand.apply(control) {
                for (previous, torrent) in changed {
                    if let previous {
                        if try control.hashes(ofTorrent: previous) == torrent.hashes.map(\.infoHash) {
                            try control.setOriginSeen(id: previous, torrent.originSeen ?? "")
                            unchanged += 1
                            continue
                        }
                        try control.delete(id: previous)
                        removed += 1
                    }
                    if try control.register(torrent, completingBareHashes: false) == .added { added += 1 }
                }
                // What is left was added from files that are gone.
                for gone in remaining.values {
                    try control.delete(id: gone.id)
                    removed += 1
                }
            }
            print("sync \(absolute): added \(added), removed \(removed), unchanged \(unchanged), refused \(input.refusals.count)")
            try ControlCommand.finish(refusals: input.refusals)
        }

        /// A file's size and modification time, to tell whether it changed since it was read.
        static func stamp(_ path: String) -> String? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
    }
}
