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
        writeCGIResponse(handler(.environment))
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
