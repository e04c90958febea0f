import Glibc
import Testing
import TrackerConfig
import TrackerCore

@Suite struct ConfigurationTests {
    func load(
        file: String? = nil, environment: [String: String] = [:], commandLine: [(name: String, value: String)] = []
    ) throws(ConfigurationError) -> ResolvedConfiguration {
        var path: String? = nil
        if let file {
            var template = Array("/tmp/shoal-config-XXXXXX".utf8CString)
            let fd = mkstemp(&template)
            precondition(fd >= 0)
            _ = file.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
            path = String(cString: template)
        }
        defer { if let path { unlink(path) } }
        return try ConfigurationLoader.load(commandLine: commandLine, configFile: path, environment: environment)
    }

    @Test func defaultsAreValid() throws {
        let resolved = try load()
        #expect(resolved.configuration == Configuration())
        #expect(resolved.sources.isEmpty)
    }

    @Test func precedenceIsCommandLineThenEnvironmentThenFile() throws {
        let file = """
            # a comment
            interval = 1200
            min-interval = 60
              max-numwant=80

            database = /run/shoal/from-file.db
            """
        let resolved = try load(
            file: file, environment: ["SHOAL_INTERVAL": "1500", "SHOAL_MAX_NUMWANT": "90"],
            commandLine: [("interval", "1600")])
        let config = resolved.configuration
        #expect(config.policy.interval == 1600)
        #expect(config.policy.maxNumWant == 90)
        #expect(config.policy.minInterval == 60)
        #expect(config.database == "/run/shoal/from-file.db")
        #expect(resolved.source(of: Setting.named("interval")!) == .commandLine(option: "interval"))
        #expect(resolved.source(of: Setting.named("max-numwant")!) == .environment(variable: "SHOAL_MAX_NUMWANT"))
        if case .file(_, let line) = resolved.source(of: Setting.named("min-interval")!) {
            #expect(line == 3)
        } else {
            Issue.record("min-interval should come from the file")
        }
    }

    @Test func configFileCanBeNamedByEnvironment() throws {
        var template = Array("/tmp/shoal-config-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        _ = "interval = 777\n".utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        let path = String(cString: template)
        defer { unlink(path) }
        let resolved = try ConfigurationLoader.load(commandLine: [], configFile: nil, environment: ["SHOAL_CONFIG": path])
        #expect(resolved.configuration.policy.interval == 777)
    }

    @Test(arguments: [
        ("interval = abc", "interval = 'abc'"),
        ("interval = 0", "from 1 to 86400"),
        ("intervall = 5", "unknown setting 'intervall'"),
        ("just words", "expected 'name = value'"),
        ("trusted-proxies = 10.0.0.0/8, 10.1.2.3/8", "'10.1.2.3/8' is not"),
        ("client-address-header = x-forwarded", "use one of x-forwarded-for"),
        ("allow-ip-parameter = maybe", "use yes or no"),
        ("listen = nowhere", "listen = 'nowhere'"),
        ("workers = 0", "from 1 to 1024"),
        ("socket-mode = 999", "octal"),
        ("min-interval = 2000", "min-interval must be between 0 and interval"),
        ("listen = localhost:9000", "listen = 'localhost:9000'"),
        ("busy-timeout = 0", "from 100 to 60000"),
        ("interval = -5", "from 1 to 86400"),
        ("database = file:/dev/shm/x.db?nolock=1", "SQLite URIs are not accepted"),
        ("database = shoal.db", "absolute file path"),
    ])
    func badFileValuesNameTheSettingAndLine(line: String, expected: String) {
        do {
            _ = try load(file: "# sample\n" + line + "\n")
            Issue.record("'\(line)' should be refused")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"))
            if !expected.contains("min-interval") { #expect(error.description.contains("line 2"), "\(error)") }
        }
    }

    @Test func badEnvironmentValueNamesTheVariable() {
        #expect(throws: ConfigurationError.self) { try load(environment: ["SHOAL_PEER_TTL_FACTOR": "0.5"]) }
        do {
            _ = try load(environment: ["SHOAL_PEER_TTL_FACTOR": "0.5"])
        } catch {
            #expect(error.description == "peer-ttl-factor = '0.5' (environment SHOAL_PEER_TTL_FACTOR): use a number from 1.0 to 100.0")
        }
    }

    @Test func unknownEnvironmentVariablesAreOnlyWarnings() throws {
        let resolved = try load(environment: ["SHOAL_BIN": "/usr/bin/shoal", "PATH": "/bin"])
        #expect(resolved.warnings == ["ignoring environment variable SHOAL_BIN: no such setting"])
    }

    @Test func windowsLineEndingsAndAByteOrderMarkAreRead() throws {
        let resolved = try load(file: "\u{FEFF}# written on Windows\r\ninterval = 1200\r\n\r\nmax-numwant = 80\r\n")
        #expect(resolved.configuration.policy.interval == 1200)
        #expect(resolved.configuration.policy.maxNumWant == 80)
        if case .file(_, let line) = resolved.source(of: Setting.named("max-numwant")!) { #expect(line == 4) }
    }

    @Test func aFIFOIsRefusedAtOnceInsteadOfHanging() {
        let path = "/tmp/shoal-config-fifo-\(UInt32.random(in: 0 ... .max))"
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        do {
            _ = try ConfigurationLoader.load(commandLine: [], configFile: path, environment: [:])
            Issue.record("a FIFO should be refused")
        } catch {
            #expect(error.description == "configuration file \(path) is not a regular file: name a file of 'name = value' lines")
        }
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(commandLine: [], configFile: "/tmp", environment: [:])
        }
    }

    @Test func missingFileSaysWhy() {
        do {
            _ = try ConfigurationLoader.load(commandLine: [], configFile: "/nonexistent/shoal.conf", environment: [:])
            Issue.record("a missing file should be refused")
        } catch {
            #expect(error.description == "cannot read configuration file /nonexistent/shoal.conf: No such file or directory")
        }
    }

    @Test func trustedProxiesAndHeader() throws {
        let resolved = try load(file: "trusted-proxies = 10.0.0.0/8 ::1, 192.0.2.1\nclient-address-header = X-Real-IP\n")
        let policy = resolved.configuration.policy.clientAddress
        #expect(policy.trustedProxies.map(\.description) == ["10.0.0.0/8", "::1/128", "192.0.2.1/32"])
        #expect(policy.header == .xRealIP)
    }

    @Test func requestParametersOverrideOnlyPerRequestSettings() throws {
        let base = try load(commandLine: [("interval", "1000"), ("min-interval", "100"), ("request-database-dir", "/dev/shm/")])
        let resolved = try ConfigurationLoader.applying(
            requestParameters: [("SHOAL_DATABASE", "/dev/shm/site-b.db"), ("SHOAL_WORKERS", "9"), ("SHOAL_NOPE", "1")],
            to: base)
        #expect(resolved.configuration.database == "/dev/shm/site-b.db")
        #expect(resolved.configuration.workers == nil)
        #expect(resolved.configuration.policy.interval == 1000)
        #expect(resolved.warnings.count == 2)
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.applying(requestParameters: [("SHOAL_MIN_INTERVAL", "5000")], to: base)
        }
    }

    @Test func aRequestMayNameADatabaseOnlyInsideTheAllowedDirectory() throws {
        let closed = try load(commandLine: [("database", "/run/shoal/peers.db")])
        // Naming the process's own database changes nothing and is always fine.
        _ = try ConfigurationLoader.applying(requestParameters: [("SHOAL_DATABASE", "/run/shoal/peers.db")], to: closed)
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.applying(requestParameters: [("SHOAL_DATABASE", "/run/shoal/other.db")], to: closed)
        }
        let open = try load(commandLine: [("request-database-dir", "/run/shoal/sites")])
        _ = try ConfigurationLoader.applying(requestParameters: [("SHOAL_DATABASE", "/run/shoal/sites/a.db")], to: open)
        for outside in ["/run/shoal/sites/../x.db", "/run/shoal/sites/sub/a.db", "/run/shoal/sitesX/a.db",
                        "/run/shoal/sites/", "/run/shoal/sites/.hidden", "/etc/passwd"] {
            #expect(throws: ConfigurationError.self, "\(outside)") {
                try ConfigurationLoader.applying(requestParameters: [("SHOAL_DATABASE", outside)], to: open)
            }
        }
    }

    @Test func everySettingRoundTripsItsCurrentValue() throws {
        let defaults = Configuration()
        for setting in Setting.all {
            var copy = defaults
            let value = setting.currentValue(in: defaults)
            let resolved = try load(file: "\(setting.name) = \(value)\n")
            copy = resolved.configuration
            #expect(copy == defaults, "\(setting.name) = \(value)")
            #expect(setting.environmentName.allSatisfy { $0.isUppercase || $0 == "_" })
        }
    }
}

@Suite struct SampleFileTests {
    /// shoal.conf.sample at the top of the repository.
    static let samplePath: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/shoal.conf.sample"
    }()

    @Test func sampleListsEverySettingWithItsDefault() throws {
        guard let file = fopen(Self.samplePath, "r") else {
            Issue.record("cannot read \(Self.samplePath)")
            return
        }
        defer { fclose(file) }
        var lines: [String] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil { lines.append(String(cString: buffer)) }
        // Uncommenting every `# name = value` line must give exactly the defaults.
        let settingLines = lines.filter { line in Setting.all.contains { line.hasPrefix("# \($0.name) =") } }
        #expect(Set(settingLines.map { $0.dropFirst(2).split(separator: " ")[0] }) == Set(Setting.all.map { Substring($0.name) }))
        var template = Array("/tmp/shoal-sample-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        let text = settingLines.map { String($0.dropFirst(2)) }.joined()
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        let path = String(cString: template)
        defer { unlink(path) }
        let resolved = try ConfigurationLoader.load(commandLine: [], configFile: path, environment: [:])
        #expect(resolved.configuration == Configuration())
        // The whole sample, comments included, is a valid file as it stands.
        _ = try ConfigurationLoader.load(commandLine: [], configFile: Self.samplePath, environment: [:])
    }
}
