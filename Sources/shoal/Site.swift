import ArgumentParser
import Foundation
import TrackerCore
import TrackerStore
import TrackerTokens

/// `shoal site`: private tracking's control state and ledger from the command line, for a site
/// on the same machine or an operator. The same tables and rules as the control endpoint.
struct Site: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Private tracking: the site's bans, key floors, passkeys and deletions, tokens and the ledger.",
        discussion: """
            Tables: \(SiteTable.allCases.map(\.rawValue).joined(separator: ", ")). Rows are tab-separated \
            lines, as the control endpoint takes them: key_floors (user, floor), banned (user, message), \
            ratio_watch (user, message), revoked (user, info_hash), deleted (info_hash, reason), passkeys \
            (passkey, user), clients (prefix, allow|deny). Changes are live on the next batch of requests.
            """,
        subcommands: [Replace.self, Add.self, Remove.self, List.self, Token.self, Ledger.self, Ack.self]
    )

    struct Replace: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a whole table with the rows of a TSV file (- or nothing: standard input), in one transaction.")
        @OptionGroup var options: TrackerOptions
        @Argument(help: "The table.") var table: SiteTable
        @Argument(help: "A TSV file; - or nothing reads standard input.") var file: String?

        func run() throws {
            let rows = try Site.parse(table, Site.read(file))
            let (control, _) = try ControlCommand.open(options)
            let count = try Site.writing(control) { try control.replaceSiteTable(table, with: rows, now: ControlCommand.now) }
            print("replaced \(table.rawValue): \(count) rows")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one row given as arguments (a row with the same key is replaced), e.g. add banned 12 'Banned: cheating'.")
        @OptionGroup var options: TrackerOptions
        @Argument(help: "The table.") var table: SiteTable
        @Argument(help: "The row's values, in the table's column order.") var values: [String]

        func run() throws {
            let rows = try Site.parse(table, Array(values.joined(separator: "\t").utf8))
            let (control, _) = try ControlCommand.open(options)
            try Site.writing(control) { try control.addSiteRows(rows, to: table, now: ControlCommand.now) }
            print("added to \(table.rawValue): \(values.joined(separator: " "))")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the row with this key (revoked: user and info_hash).")
        @OptionGroup var options: TrackerOptions
        @Argument(help: "The table.") var table: SiteTable
        @Argument(help: "The key's values.") var key: [String]

        func run() throws {
            let keys = try Site.parse(table, Array(key.joined(separator: "\t").utf8), keysOnly: true)
            let (control, _) = try ControlCommand.open(options)
            let removed = try Site.writing(control) { try control.removeSiteRows(keys, from: table) }
            guard removed > 0 else {
                printError("\(table.rawValue) has no row \(key.joined(separator: " "))")
                throw ExitCode(1)
            }
            print("removed from \(table.rawValue): \(key.joined(separator: " "))")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a table as TSV.")
        @OptionGroup var options: TrackerOptions
        @Argument(help: "The table.") var table: SiteTable

        func run() throws {
            let (control, _) = try ControlCommand.open(options)
            for row in try control.siteRows(table) {
                print(zip(table.columns, row).map { $0.render($1) }.joined(separator: "\t"))
            }
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a user's token for a torrent with the configured secret, as the site does.")
        @OptionGroup var options: TrackerOptions
        @Option(help: "The site's user id (0 to 4294967295).") var user: UInt32
        @Option(help: "The user's key version (0 to 65535).") var keyVersion: UInt16 = 0
        @Argument(help: "The torrent's info_hash, 40 hex digits.") var infoHash: String

        func run() throws {
            let configuration = try options.resolve().configuration
            guard let hash = InfoHash(hex: infoHash) else {
                printError("info_hash must be 40 hexadecimal digits")
                throw ExitCode(64)
            }
            guard let token = HMACTokenKeys(secrets: [configuration.secret]).mint(userID: user, keyVersion: keyVersion, infoHash: hash)
            else {
                printError("no secret is configured: set secret in the configuration file or SHOAL_SECRET")
                throw ExitCode(78)
            }
            print(String(decoding: token.hex, as: UTF8.self))
        }
    }

    struct Ledger: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print ledger rows after a position, as the control endpoint's ledger does.")
        @OptionGroup var options: TrackerOptions
        @Option(help: "Rows after this seq.") var after: Int64 = 0
        @Option(help: "At most this many rows.") var limit: Int = 10_000

        func run() throws {
            let store = try openStoreOrExit(try options.resolve().configuration)
            print(try store.ledgerPage(after: after, limit: limit).tsv, terminator: "")
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge ledger rows through a seq, so they are deleted (the epoch must match).")
        @OptionGroup var options: TrackerOptions
        @Option(help: "The epoch the rows were read with.") var epoch: Int64
        @Option(help: "The last seq the site stored.") var through: Int64

        func run() throws {
            let store = try openStoreOrExit(try options.resolve().configuration)
            guard try store.acknowledgeLedger(epoch: epoch, through: through) else {
                printError("epoch \(epoch) is not this ledger's: the peers database was made anew; drain from --after 0")
                throw ExitCode(1)
            }
            print("acknowledged through \(through)")
        }
    }

    static func read(_ file: String?) throws -> [UInt8] {
        if file == nil || file == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file!) else {
            printError("cannot read \(file!)")
            throw ExitCode(66)
        }
        return Array(data)
    }

    static func parse(_ table: SiteTable, _ text: [UInt8], keysOnly: Bool = false) throws -> [[SiteValue]] {
        do {
            return try table.parse(text, keysOnly: keysOnly)
        } catch {
            printError("nothing was changed: \(error)")
            throw ExitCode(65)
        }
    }

    @discardableResult
    static func writing<T>(_ control: SQLiteControlStore, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            printError("nothing was changed: \(control.path): \(error.message)")
            throw ExitCode(1)
        }
    }
}

extension SiteTable: ExpressibleByArgument {}
