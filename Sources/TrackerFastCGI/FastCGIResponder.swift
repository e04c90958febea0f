import CFastCGI
import Glibc
import TrackerCore

/// How this process was started, and plain CGI. FastCGI connections are served by
/// `ConnectionLoop`; libfcgi's `FCGX_Accept_r` loop is not used, because it blocks on a
/// connection the web server keeps open while other connections wait.
public enum FastCGIResponder {
    /// Whether this process was started as a CGI program rather than with a FastCGI socket on fd 0.
    public static var isCGI: Bool { FCGX_IsCGI() != 0 }

    /// Answers the single request described by this process's environment on stdout (plain CGI).
    public static func serveCGI(handler: (CGIParameters) -> TrackerResponse) {
        var parameters = CGIParameters.environment
        readCGIBody(into: &parameters)
        writeCGIResponse(handler(parameters))
    }

    /// Reads `CONTENT_LENGTH` bytes of standard input, when the request has a body: no more (the
    /// web server may keep the pipe open) and none past `maxBodyBytes`.
    static func readCGIBody(into parameters: inout CGIParameters) {
        guard parameters.value("REQUEST_METHOD") == Array("POST".utf8), let raw = parameters.value("CONTENT_LENGTH"),
            let length = Int(String(decoding: raw, as: UTF8.self)), length > 0
        else { return }
        guard length <= CGIParameters.maxBodyBytes else {
            parameters.bodyTooLarge = true
            return
        }
        var body = [UInt8](repeating: 0, count: length)
        var offset = 0
        while offset < length {
            let got = body.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress! + offset, length - offset) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            offset += got
        }
        parameters.body = Array(body.prefix(offset))
    }

    /// Writes a complete CGI response to stdout.
    public static func writeCGIResponse(_ response: TrackerResponse) {
        writeAll(CGIVariables.responseBytes(response), to: STDOUT_FILENO)
    }
}

/// Writes every byte, retrying short writes and interruptions.
func writeAll(_ bytes: [UInt8], to fd: Int32) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
