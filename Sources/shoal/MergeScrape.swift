import ArgumentParser
import Foundation
import TrackerCore
import TrackerStore

/// `shoal merge-scrape`: the cluster front's full scrape, made from the hosts' own.
struct MergeScrape: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-scrape",
        abstract: "Merge the full scrapes of a cluster's hosts into one file the front serves.",
        discussion: """
            For a cluster (nginx/cluster): each input is one host's full scrape (/scrape without \
            info_hash, fetched by nginx/cluster/shoal-cluster-scrape on a timer). The output is \
            every torrent once, in byte order, written as OUTPUT and OUTPUT.gz, each replaced whole \
            by rename, for the front's nginx to serve as a file: full scrapes cost the hosts one \
            request per timer, not one per client. A torrent found on two hosts (for a while after \
            a host went down or came back) gets the larger of each count.

            All or nothing: if an input is not a full scrape (a refusal, a cut-off download), \
            nothing is written and the previous output stays.
            """)

    @Option(name: .shortAndLong, help: "the merged full scrape to write (and OUTPUT.gz)") var output: String
    @Argument(help: "each host's full scrape, as fetched") var inputs: [String]

    func run() throws {
        var scrapes: [FullScrapeMerge.HostScrape] = []
        for input in inputs {
            guard let data = FileManager.default.contents(atPath: input) else {
                printError("\(input): cannot read; \(output) left as it was")
                throw ExitCode(1)
            }
            do {
                scrapes.append(try FullScrapeMerge.read([UInt8](data)))
            } catch {
                printError("\(input): not a full scrape at byte \(error.offset): \(error.problem); \(output) left as it was")
                throw ExitCode(1)
            }
        }
        let merged = FullScrapeMerge.merge(scrapes)
        do {
            try FullScrapeFiles.write(merged, to: output, mode: 0o644)
        } catch let error as SQLiteError {
            printError(error.message)
            throw ExitCode(1)
        }
        let torrents = scrapes.reduce(0) { $0 + $1.count }
        printError("\(output): \(merged.count) bytes from \(inputs.count) hosts (\(torrents) entries read)")
    }
}
