import ArgumentParser
import Foundation
import TrackerStore

/// `shoal dump`: the control database as text (see `ControlDump` for the format).
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the control database (torrents, names, .torrent files, client rules, completed counts, the site's tables) as text.",
        discussion: """
            One record per line, tab-separated, in a stable order: a backup that diff can compare, \
            or the way to move a tracker. `shoal restore` reads it back. The format is in the README.
            """)

    @OptionGroup var options: TrackerOptions

    func run() throws {
        let (control, _) = try ControlCommand.open(options)
        // One read transaction: the dump is one moment of the database, whatever runs meanwhile.
        try control.database.execute("BEGIN")
        defer { try? control.database.execute("COMMIT") }
        try ControlDump.write(control) { print($0) }
    }
}

/// `shoal restore`: a dump back into a control database.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a dump (shoal dump) into an empty control database; - reads standard input.",
        discussion: """
            All or nothing: the first bad line stops the restore and nothing is changed. A control \
            database that holds anything already is refused, unless --replace, which empties it first \
            (in the same transaction). Responders see the result on their next request.
            """)

    @OptionGroup var options: TrackerOptions
    @Flag(help: "Empty the control database first, in the same transaction.") var replace = false
    @Argument(help: "the dump file, or - for standard input") var file: String

    func run() throws {
        let (control, _) = try ControlCommand.open(options)
        let text: String
        do {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            text = String(decoding: data, as: UTF8.self)
        } catch {
            printError("\(file): cannot read (\(describe(error)))")
            throw ExitCode(1)
        }
        var totals = (torrents: 0, rules: 0, counts: 0, siteRows: 0)
        do {
            try control.database.writeTransaction {
                if replace {
                    try control.deleteEverything()
                } else if try !control.isEmpty() {
                    throw ControlDump.Problem(line: 0, text: "\(control.path) is not empty: restore into an empty one, or pass --replace")
                }
                totals = try ControlDump.read(text, into: control)
            }
        } catch let problem as ControlDump.Problem {
            printError(problem.line > 0 ? "\(file):\(problem.line): \(problem.text); nothing was changed" : problem.text)
            throw ExitCode(1)
        } catch let error as SQLiteError {
            printError("nothing was changed: \(control.path): \(error.message)")
            throw ExitCode(1)
        }
        print("restored \(totals.torrents) torrents, \(totals.rules) client rules, \(totals.counts) completed counts, "
            + "\(totals.siteRows) site rows")
    }
}
