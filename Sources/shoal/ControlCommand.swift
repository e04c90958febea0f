import ArgumentParser
import Foundation
import TrackerConfig
import TrackerStore

/// What the commands that change the control database share: opening it, and reporting.
enum ControlCommand {
    /// Opens the control database for an operator's command (commits synced to disk), or stops
    /// with one line saying what to fix.
    static func open(_ options: TrackerOptions) throws -> (SQLiteControlStore, ResolvedConfiguration) {
        let resolved = try options.resolve()
        let configuration = resolved.configuration
        guard !configuration.controlDatabase.isEmpty else {
            printError("no control-database is configured: set one (e.g. /var/lib/shoal/control.db) in the "
                + "configuration file, SHOAL_CONTROL_DATABASE or --control-database")
            throw ExitCode(78)
        }
        do {
            return (try openControl(configuration, durable: true), resolved)
        } catch {
            printError(describeControlFailure(configuration.controlDatabase, error))
            throw ExitCode(1)
        }
    }

    /// Runs `body` in one write transaction: a command applies all it can, or nothing.
    static func apply(_ control: SQLiteControlStore, _ body: () throws -> Void) throws {
        do {
            try control.database.writeTransaction(body)
        } catch let error as SQLiteError {
            printError("nothing was changed: \(control.path): \(error.message)")
            throw ExitCode(1)
        }
    }

    /// Prints the refusals, one line each, and fails the command if there were any.
    static func finish(refusals: [String]) throws {
        refusals.forEach(printError)
        if !refusals.isEmpty { throw ExitCode(1) }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}

/// One line on stderr for a command's user.
func printError(_ line: String) {
    FileHandle.standardError.write(Data(("shoal: " + line + "\n").utf8))
}

/// A Unix time as `2026-12-06T17:01:50Z`.
func isoDate(_ seconds: Int64) -> String {
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    return String(
        format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
        parts.tm_min, parts.tm_sec)
}
