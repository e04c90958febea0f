import CFastCGI
import Glibc
import TrackerCore

/// A worker's FastCGI loop over its listening socket and every connection it has accepted, with
/// `poll`: a web server may keep connections open between requests (`fastcgi_keep_conn`), and a
/// kept connection must not stop this worker from serving the others.
///
/// Several workers share the listening socket. A worker accepts one connection per turn, after
/// serving the ones it already has, so new connections wait in the kernel's backlog for whichever
/// worker is free first. Requests are answered one at a time.
public enum ConnectionLoop {
    /// Connections one worker keeps; beyond this it stops accepting until some close.
    static let maxConnections = 4096

    /// Serves until a shutdown signal (`Signals.installWorkerHandlers`); then closes everything.
    ///
    /// With a `turnstile`, a worker takes its turn before it accepts a connection or reads a
    /// request from a kept one, and gives it up before writing the reply.
    public static func serve(
        socket listener: Int32, turnstile: Turnstile? = nil, handler: (CGIParameters) -> TrackerResponse
    ) {
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
            var listenerReady = false
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == listener {
                    listenerReady = true
                    continue
                }
                serve(
                    descriptor.fd, revents: descriptor.revents, in: &connections, buffer: &buffer,
                    turnstile: turnstile, handler: handler)
            }
            // Accepted last and served at once: a worker takes a new connection only when it is
            // free to answer it, so waiting requests stay in the kernel's backlog, which every
            // idle worker drains oldest first, instead of queueing behind one busy worker.
            if listenerReady {
                turnstile?.enter()
                let fd = accept4(listener, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                if fd >= 0 {
                    connections[fd] = FastCGIConnection()
                    // The web server writes the request right after connecting, so it is
                    // usually already here; if not, the read finds nothing and poll waits for it.
                    serve(
                        fd, revents: Int16(POLLIN), in: &connections, buffer: &buffer,
                        turnstile: turnstile, handler: handler)
                }
                turnstile?.leave()  // if another worker took the connection first
            }
        }
        for fd in connections.keys { close(fd) }
    }

    /// Reads and answers what the connection is ready for, then writes the replies; closes it
    /// when it is done.
    private static func serve(
        _ fd: Int32, revents: Int16, in connections: inout [Int32: FastCGIConnection], buffer: inout [UInt8],
        turnstile: Turnstile?, handler: (CGIParameters) -> TrackerResponse
    ) {
        // Taken out while it is worked on, so that its buffers have one owner and are changed in
        // place rather than copied.
        guard var connection = connections.removeValue(forKey: fd) else { return }
        var open = true
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0, !connection.hasPendingOutput {
            turnstile?.enter()  // already held when the connection was just accepted
            open = receive(fd, &connection, buffer: &buffer, handler: handler)
            turnstile?.leave()
        }
        if open, flush(fd, &connection) {
            connections[fd] = connection
        } else {
            close(fd)
        }
    }

    /// Reads what has arrived and answers every request it completes; false when the connection
    /// should close.
    private static func receive(
        _ fd: Int32, _ connection: inout FastCGIConnection, buffer: inout [UInt8],
        handler: (CGIParameters) -> TrackerResponse
    ) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count == 0 { return false }  // the web server closed it
        if count < 0 { return errno == EAGAIN || errno == EINTR }
        buffer.withUnsafeBytes { connection.receive(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        connection.process(handler: handler)
        return true
    }

    /// Writes what is pending; false when the connection should close.
    private static func flush(_ fd: Int32, _ connection: inout FastCGIConnection) -> Bool {
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
