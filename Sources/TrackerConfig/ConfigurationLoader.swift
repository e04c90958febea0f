import Glibc

/// A configuration with the source of every value, and what was odd but harmless.
public struct ResolvedConfiguration: Sendable {
    public var configuration = Configuration()
    /// Setting name to where its value came from; absent means the default.
    public var sources: [String: ConfigurationSource] = [:]
    /// Things worth a log line that do not stop start-up (an unknown `SHOAL_` variable).
    public var warnings: [String] = []

    public func source(of setting: Setting) -> ConfigurationSource { sources[setting.name] ?? .defaultValue }

    /// Defaults that follow other settings, so that setting only `interval = 600` or
    /// `max-numwant = 30` is valid: an unset `min-interval` is half the interval, and an unset
    /// `default-numwant` is at most `max-numwant`.
    mutating func deriveUnsetValues() {
        let defaults = Configuration()
        if sources["min-interval"] == nil { configuration.policy.minInterval = configuration.policy.interval / 2 }
        if sources["default-numwant"] == nil {
            configuration.policy.defaultNumWant = min(defaults.policy.defaultNumWant, configuration.policy.maxNumWant)
        }
    }
}

/// Builds the configuration from its layers. Later layers win:
/// defaults < configuration file < environment < command line < request parameters.
public enum ConfigurationLoader {
    /// The environment variable naming the configuration file when `--config` is not given.
    public static let fileVariable = "SHOAL_CONFIG"

    /// - Parameters:
    ///   - commandLine: (setting name, value) pairs from options given on the command line.
    ///   - configFile: `--config`, if given; else `SHOAL_CONFIG` from `environment`, if set.
    public static func load(
        commandLine: [(name: String, value: String)], configFile: String?, environment: [String: String]
    ) throws(ConfigurationError) -> ResolvedConfiguration {
        var resolved = ResolvedConfiguration()
        if let path = configFile ?? environment[fileVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
            try applyFile(at: path, to: &resolved)
        }
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix("SHOAL_") {
            guard variable != fileVariable else { continue }
            guard let setting = Setting.all.first(where: { $0.environmentName == variable }) else {
                resolved.warnings.append("ignoring environment variable \(variable): no such setting")
                continue
            }
            try apply(setting, value, from: .environment(variable: variable), to: &resolved)
        }
        for (name, value) in commandLine {
            guard let setting = Setting.named(name) else { preconditionFailure("no setting named \(name)") }
            try apply(setting, value, from: .commandLine(option: name), to: &resolved)
        }
        resolved.deriveUnsetValues()
        if let problem = resolved.configuration.validate() { throw ConfigurationError(problem) }
        return resolved
    }

    /// This configuration with the `SHOAL_*` parameters the web server sent with one request.
    /// Settings that shape the process (its socket, its workers) are ignored with a warning.
    public static func applying(
        requestParameters: [(name: String, value: String)], to base: ResolvedConfiguration
    ) throws(ConfigurationError) -> ResolvedConfiguration {
        var resolved = base
        resolved.warnings = []
        for (name, value) in requestParameters {
            guard name != fileVariable, let setting = Setting.all.first(where: { $0.environmentName == name }) else {
                resolved.warnings.append("ignoring request parameter \(name): no such setting")
                continue
            }
            guard setting.perRequest else {
                resolved.warnings.append("ignoring request parameter \(name): \(setting.name) cannot be set per request")
                continue
            }
            try apply(setting, value, from: .requestParameter(name: name), to: &resolved)
        }
        let database = resolved.configuration.database
        if database != base.configuration.database,
            !isDirectlyInside(base.configuration.requestDatabaseDirectory, database)
        {
            let allowed = base.configuration.requestDatabaseDirectory
            throw ConfigurationError(
                setting: "database", value: database, source: .requestParameter(name: "SHOAL_DATABASE"),
                problem: allowed.isEmpty
                    ? "a request may not choose the database unless request-database-dir allows a directory"
                    : "a request may only name a database directly inside request-database-dir \(allowed)")
        }
        resolved.deriveUnsetValues()
        if let problem = resolved.configuration.validate() {
            throw ConfigurationError(problem + " (with request parameters " + requestParameters.map(\.name).joined(separator: ", ") + ")")
        }
        return resolved
    }

    /// Whether `path` names a file directly in `directory` (no subdirectory, no `..`, no hidden name).
    static func isDirectlyInside(_ directory: String, _ path: String) -> Bool {
        guard !directory.isEmpty else { return false }
        let prefix = directory == "/" ? "/" : directory + "/"
        guard path.hasPrefix(prefix) else { return false }
        let name = path.dropFirst(prefix.count)
        return !name.isEmpty && !name.contains("/") && !name.hasPrefix(".")
    }

    private static func apply(
        _ setting: Setting, _ rawValue: String, from source: ConfigurationSource, to resolved: inout ResolvedConfiguration
    ) throws(ConfigurationError) {
        let value = rawValue.trimmingSpaces
        if let problem = setting.apply(&resolved.configuration, value) {
            throw ConfigurationError(setting: setting.name, value: value, source: source, problem: problem)
        }
        resolved.sources[setting.name] = source
    }

    /// `name = value` lines; `#` starts a comment line; blank lines are skipped. An unknown name
    /// is an error: a typo in a file must not silently fall back to a default.
    static func applyFile(at path: String, to resolved: inout ResolvedConfiguration) throws(ConfigurationError) {
        try applyFile(bytes: try readFile(path), path: path, to: &resolved)
    }

    /// The configuration a file with these bytes gives, on top of the defaults; what `--config`
    /// reads, without the file (for the fuzzer, which feeds it arbitrary bytes).
    public static func load(fileBytes: [UInt8], path: String) throws(ConfigurationError) -> ResolvedConfiguration {
        var resolved = ResolvedConfiguration()
        try applyFile(bytes: fileBytes, path: path, to: &resolved)
        resolved.deriveUnsetValues()
        if let problem = resolved.configuration.validate() { throw ConfigurationError(problem) }
        return resolved
    }

    private static func applyFile(bytes: [UInt8], path: String, to resolved: inout ResolvedConfiguration) throws(ConfigurationError) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError("configuration file \(path) is not UTF-8 text")
        }
        for (index, line) in lines(of: text).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let source = ConfigurationSource.file(path: path, line: index + 1)
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigurationError("\(source): expected 'name = value', got '\(line)'")
            }
            let name = String(line[..<equals]).trimmingSpaces
            guard let setting = Setting.named(name) else {
                throw ConfigurationError("\(source): unknown setting '\(name)'; `shoal check-config --help` lists them")
            }
            try apply(setting, String(line[line.index(after: equals)...]), from: source, to: &resolved)
        }
    }

    /// The file's lines, trimmed, whether they end in LF or CRLF (a file edited on Windows), and
    /// without the byte-order mark some editors put first. Split on scalars: to Swift, "\r\n"
    /// is one Character, so splitting Characters on "\n" would leave CRLF lines joined.
    static func lines(of text: String) -> [String] {
        var scalars = Substring(text).unicodeScalars
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        return scalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)).trimmingSpaces }
    }

    /// The file's bytes. Only a regular file is read: opening a FIFO for reading would block until
    /// something writes to it, and a device or directory is a mistake; both get one line instead.
    private static func readFile(_ path: String) throws(ConfigurationError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigurationError("cannot read configuration file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ConfigurationError("cannot read configuration file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ConfigurationError("configuration file \(path) is not a regular file: name a file of 'name = value' lines")
        }
        guard info.st_size <= 1 << 20 else { throw ConfigurationError("configuration file \(path) is over 1 MiB") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= 1 << 20 {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConfigurationError("cannot read configuration file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        if bytes.count > 1 << 20 { throw ConfigurationError("configuration file \(path) is over 1 MiB") }
        return bytes
    }
}

extension String {
    var trimmingSpaces: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
