import CFastCGI
import Glibc
import TrackerCore

/// Serves FastCGI requests on a listening socket until shutdown is requested.
///
/// Uses libfcgi's reentrant API (`FCGX_Accept_r`); one request at a time per process, as
/// php-fpm workers do. Parallelism comes from running several processes on the same socket.
public enum FastCGIResponder {
    /// Whether this process was started as a CGI program rather than with a FastCGI socket on fd 0.
    public static var isCGI: Bool { FCGX_IsCGI() != 0 }

    /// Accepts and answers requests on `socket` (0 for the socket a web server handed over)
    /// until a signal asks for shutdown (`Signals.installWorkerHandlers`) or the socket fails.
    public static func serve(socket: Int32, handler: (CGIParameters) -> TrackerResponse) {
        FCGX_Init()
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        FCGX_InitRequest(request, socket, 0)
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        while !Signals.shutdownRequested, FCGX_Accept_r(request) >= 0 {
            let response = handler(CGIParameters(envp: request.pointee.envp))
            output.removeAll(keepingCapacity: true)
            ResponseHead.append(status: response.status, contentLength: response.body.count, to: &output)
            output += response.body
            output.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    _ = FCGX_PutStr($0.baseAddress, Int32($0.count), request.pointee.out)
                }
            }
            FCGX_Finish_r(request)
        }
        FCGX_Free(request, 1)
    }

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
