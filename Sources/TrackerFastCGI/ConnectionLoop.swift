import Glibc
import TrackerCore

/// A worker's FastCGI loop over its listening socket and every connection it has accepted, with
/// `poll`: a web server may keep connections open between requests (`fastcgi_keep_conn`), and a
/// kept connection must not stop this worker from serving the others.
///
/// Several workers share the listening socket; each accepts one connection per wake-up, so an
/// idle worker picks up new connections while a busy one finishes its request. Requests are
/// answered one at a time, in the order their last record arrives.
public enum ConnectionLoop {
    /// Connections one worker keeps; beyond this it stops accepting until some close.
    static let maxConnections = 4096

    /// Serves until a shutdown signal (`Signals.installWorkerHandlers`); then closes everything.
    public static func serve(socket listener: Int32, handler: (CGIParameters) -> TrackerResponse) {
        // Shared by every worker: each must only try to accept, never block in accept.
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        var connections: [Int32: FastCGIConnection] = [:]
        var descriptors: [pollfd] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while !Signals.shutdownRequested {
            descriptors.removeAll(keepingCapacity: true)
            if connections.count < maxConnections {
                descriptors.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            }
            for (fd, connection) in connections {
                let events = connection.hasPendingOutput ? POLLOUT : POLLIN
                descriptors.append(pollfd(fd: fd, events: Int16(events), revents: 0))
            }
            // The timeout only bounds how late a missed signal is noticed.
            let ready = poll(&descriptors, nfds_t(descriptors.count), 1000)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == listener {
                    let fd = accept(listener, nil, nil)
                    if fd >= 0 {
                        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                        connections[fd] = FastCGIConnection()
                    }
                    continue
                }
                // Taken out while it is worked on, so that its buffers have one owner and are
                // changed in place rather than copied.
                guard var connection = connections.removeValue(forKey: descriptor.fd) else { continue }
                if service(descriptor.fd, &connection, revents: descriptor.revents, buffer: &buffer, handler: handler) {
                    connections[descriptor.fd] = connection
                } else {
                    close(descriptor.fd)
                }
            }
        }
        for fd in connections.keys { close(fd) }
    }

    /// Reads, answers and writes what the connection is ready for; false when it should close.
    private static func service(
        _ fd: Int32, _ connection: inout FastCGIConnection, revents: Int16, buffer: inout [UInt8],
        handler: (CGIParameters) -> TrackerResponse
    ) -> Bool {
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0, !connection.hasPendingOutput {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return false }  // the web server closed it
            if count < 0 { return errno == EAGAIN || errno == EINTR }
            buffer.withUnsafeBytes { connection.receive(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            connection.process(handler: handler)
        }
        while connection.hasPendingOutput {
            let written = connection.withPendingOutput { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN  // wait for POLLOUT; anything else is a dead peer
            }
            connection.wrote(written)
        }
        return !connection.closesAfterOutput
    }
}
