import ArgumentParser
import Glibc
import TrackerConfig
import TrackerStore

/// Validates the configuration without serving, for deploy scripts and `ExecStartPre=`.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration and the database, print the settings in effect, and exit.",
        discussion: """
            Settings are read from the configuration file (--config or SHOAL_CONFIG), then the \
            environment (SHOAL_*), then the command line; each later source wins. A web server may \
            also send SHOAL_* parameters with each request (fastcgi_param, SetEnv), which win over \
            all of these for that request. Exits 0 when everything can be used, 78 for a bad \
            setting, 1 when the database (or a control database the tracker needs) cannot be used.
            """
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var options: TrackerOptions

    func run() throws {
        let resolved = try options.resolve(extra: server.commandLineSettings)
        let width = Setting.all.map(\.name.count).max() ?? 0
        for setting in Setting.all {
            let padded = setting.name + String(repeating: " ", count: width - setting.name.count)
            print("\(padded) = \(setting.currentValue(in: resolved.configuration))  # \(resolved.source(of: setting))")
        }
        let configuration = resolved.configuration
        let store = try openStoreOrExit(configuration)
        do {
            try store.probeWrite()
            let space = try store.spaceInUse()
            // spaceInUse has logged why when there is no room.
            guard space.roomToGrow else { throw ExitCode(1) }
            print("""
                configuration OK; database \(configuration.database) is usable: \(space.usedBytes) bytes in use \
                of max-database-size \(configuration.maxDatabaseBytes)
                """)
        } catch let error as SQLiteError {
            logLine(describeOpenFailure(configuration.database, error))
            throw ExitCode(1)
        }
        try checkControl(resolved)
        if !configuration.controlDatabase.isEmpty, let control = try? openControl(configuration) {
            let torrents = (try? control.database.scalar("SELECT count(*) FROM torrents")) ?? 0
            let rules = (try? control.database.scalar("SELECT count(*) FROM client_rules")) ?? 0
            print("control database \(control.path) is usable: \(torrents) torrents listed, \(rules) client rules")
        }
    }
}
