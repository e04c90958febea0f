/// Where a setting's value came from, for error messages and `shoal check-config`.
public enum ConfigurationSource: Equatable, Sendable, CustomStringConvertible {
    case defaultValue
    case file(path: String, line: Int)
    case environment(variable: String)
    case commandLine(option: String)
    /// A FastCGI/CGI parameter the web server sent with the request (`fastcgi_param`, `SetEnv`).
    case requestParameter(name: String)

    public var description: String {
        switch self {
        case .defaultValue: "default"
        case .file(let path, let line): "\(path) line \(line)"
        case .environment(let variable): "environment \(variable)"
        case .commandLine(let option): "command line --\(option)"
        case .requestParameter(let name): "request parameter \(name)"
        }
    }
}

/// A setting that cannot be used, phrased as one line that names it, its source and the fix.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }

    init(setting: String, value: String, source: ConfigurationSource, problem: String) {
        self.init("\(setting) = '\(value)' (\(source)): \(problem)")
    }
}
