import CFastCGI
import Glibc

/// The parameters of one request: the FCGI_PARAMS stream `ConnectionLoop` read, or, for plain CGI,
/// the process's environment (a C array of `NAME=value` strings).
public struct CGIParameters {
    private let envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    private let stream: FastCGIParams?
    /// A POST's body (FCGI_STDIN, or a CGI process's standard input), up to `maxBodyBytes`;
    /// other requests' bodies are dropped as they arrive.
    public var body: [UInt8] = []
    /// The body was longer than `maxBodyBytes` and was dropped.
    public var bodyTooLarge = false

    /// Bodies are kept up to this size (only the control endpoint reads one: a site's table sent
    /// whole); a longer one is dropped and the request is answered 413 where it matters.
    public static let maxBodyBytes = 16 << 20

    public init(envp: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        self.envp = envp
        stream = nil
    }

    init(stream: FastCGIParams) {
        envp = nil
        self.stream = stream
    }

    /// This process's environment, for plain CGI.
    public static var environment: CGIParameters { CGIParameters(envp: environ) }

    /// The raw bytes of one parameter, or nil when the web server did not send it.
    public func value(_ name: String) -> [UInt8]? {
        if let stream { return stream.value(name) }
        guard let envp, let value = FCGX_GetParam(name, envp) else { return nil }
        return Array(UnsafeRawBufferPointer(start: value, count: strlen(value)))
    }

    /// Every parameter whose name starts with `prefix`, in the order sent. One pass over the array;
    /// most requests carry none, and then nothing is allocated.
    public func parameters(prefixed prefix: StaticString) -> [(name: String, value: String)] {
        if let stream { return stream.parameters(prefixed: prefix) }
        guard var cursor = envp else { return [] }
        var found: [(name: String, value: String)] = []
        while let entry = cursor.pointee {
            if strncmp(entry, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0, let equals = strchr(entry, 0x3d) {
                let name = String(decoding: UnsafeRawBufferPointer(start: entry, count: equals - entry), as: UTF8.self)
                found.append((name, String(cString: equals + 1)))
            }
            cursor += 1
        }
        return found
    }
}
