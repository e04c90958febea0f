import CFastCGI
import Glibc
import TrackerCore

/// A worker's FastCGI loop over its listening socket and every connection it has accepted, with
/// `poll`: a web server may keep connections open between requests (`fastcgi_keep_conn`), and a
/// kept connection must not stop this worker from serving the others.
///
/// Several workers share the listening socket and take turns (`Turnstile`). In its turn a worker
/// answers a batch: every request that has arrived on the connections it keeps, then up to
/// `acceptsPerBatch` new connections, oldest first from the kernel's backlog. It stores the batch
/// (`BatchResponder.finishBatch`), writes the replies, and goes on with the next batch while there
/// is work, keeping the turn for up to `Turnstile.defaultLongestHoldNanoseconds`; an idle worker,
/// or one that keeps connections open, gives the turn up at once. New connections wait in the backlog for whichever worker is free first,
/// not behind one busy worker.
public enum ConnectionLoop {
    /// New connections one batch may take. A bigger batch spreads the commit over more requests,
    /// but its replies wait for the whole batch while the web server has nothing to do: taking
    /// the whole backlog made the worker and nginx work in turn rather than side by side (bench/,
    /// 64 connections: 16 or 32 gave 18–19k announces/s, 64 gave 13k, 8 gave 16–17k).
    static let acceptsPerBatch = 16

    /// How long the listener is left alone after `accept4` ran out of descriptors with no
    /// connection to close instead: without a pause, poll reports the backlog at once, again and
    /// again, and the worker spins.
    static let descriptorShortagePauseMilliseconds: UInt64 = 100

    /// Serves until a shutdown signal (`Signals.installWorkerHandlers`); then closes everything.
    ///
    /// - Parameter log: receives a line when the process runs out of descriptors (at most once a
    ///   minute).
    public static func serve(
        socket listener: Int32, turnstile: Turnstile? = nil, limits: ConnectionLimits = .fromResourceLimit(),
        responder: some BatchResponder, log: @escaping (String) -> Void = { _ in }
    ) {
        // Shared by every worker: each must only try to accept, never block in accept.
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        var connections: [Int32: FastCGIConnection] = [:]
        var listenerPausedUntil: UInt64 = 0
        var nextUpkeep: UInt64 = 0
        var lastShortageReport: UInt64?
        /// Once a second, busy or idle: close connections quiet too long, and let the responder
        /// do its upkeep in a turn of its own (expiry must not depend on requests arriving).
        func upkeepOnceASecond(_ now: UInt64) {
            guard now >= nextUpkeep else { return }
            nextUpkeep = now + 1000
            closeExpired(&connections, now: now)
            turnstile?.enter()
            responder.maintain()
            turnstile?.leave()
            responder.maintainOutsideTurn()
        }
        var descriptors: [pollfd] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        /// The connections this batch read from, and whether each stays open; reused.
        var answered: [(fd: Int32, open: Bool)] = []
        let handler = responder.respond

        while !Signals.shutdownRequested {
            descriptors.removeAll(keepingCapacity: true)
            // The clock is read here only while a pause is on (rarely): this runs for every batch.
            if listenerPausedUntil != 0, monotonicMilliseconds() >= listenerPausedUntil { listenerPausedUntil = 0 }
            if listenerPausedUntil == 0 {
                descriptors.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            }
            for (fd, connection) in connections {
                let events = connection.hasPendingOutput ? POLLOUT : POLLIN
                descriptors.append(pollfd(fd: fd, events: Int16(events), revents: 0))
            }
            // Holding the turn, only look: with nothing to do, the turn goes to a waiting worker
            // before this one sleeps. The timeout only bounds how late a missed signal is noticed.
            let holding = turnstile?.isHeld ?? false
            let ready = poll(&descriptors, nfds_t(descriptors.count), holding ? 0 : 1000)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            let now = monotonicMilliseconds()
            if ready == 0 {
                turnstile?.leave()
                upkeepOnceASecond(now)
                continue
            }
            let reads = descriptors.contains { $0.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 }
            if reads {
                turnstile?.enter()
                responder.beginBatch()
            }
            var listenerReady = false
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == listener {
                    listenerReady = true
                    continue
                }
                // Taken out while it is worked on, so that its buffers have one owner and are
                // changed in place rather than copied.
                guard var connection = connections.removeValue(forKey: descriptor.fd) else { continue }
                var open = true
                // Readable or writable again: the peer is making progress.
                connection.lastActivity = now
                if descriptor.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0, !connection.hasPendingOutput {
                    open = receive(descriptor.fd, &connection, buffer: &buffer, handler: handler)
                }
                connections[descriptor.fd] = connection
                answered.append((descriptor.fd, open))
            }
            // Accepted last and answered at once: a worker takes a new connection only when it is
            // free to answer it.
            if listenerReady {
                for _ in 0..<acceptsPerBatch {
                    if connections.count >= limits.maxConnections, !closeQuietest(&connections, before: now) { break }
                    let fd = accept4(listener, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                    if fd < 0 {
                        let failure = errno
                        if failure == EINTR || failure == ECONNABORTED { continue }
                        guard failure == EMFILE || failure == ENFILE else { break }  // the backlog is empty (EAGAIN)
                        if lastShortageReport.map({ now - $0 >= 60_000 }) ?? true {
                            lastShortageReport = now
                            log("""
                                out of file descriptors (\(String(cString: strerror(failure)))) with \
                                \(connections.count) connections open: closing the quietest; raise LimitNOFILE or ulimit -n
                                """)
                        }
                        if !closeQuietest(&connections, before: now) {
                            listenerPausedUntil = now + descriptorShortagePauseMilliseconds
                            break
                        }
                        continue
                    }
                    // The web server writes the request right after connecting, so it is
                    // usually already here; if not, the read finds nothing and poll waits for it.
                    var connection = FastCGIConnection()
                    connection.lastActivity = now
                    let open = receive(fd, &connection, buffer: &buffer, handler: handler)
                    connections[fd] = connection
                    answered.append((fd, open))
                }
            }
            let failure = reads ? responder.finishBatch() : nil
            for (fd, open) in answered {
                guard var connection = connections.removeValue(forKey: fd) else { continue }
                connection.settleReplies(replacingWith: failure)
                if open, flush(fd, &connection) {
                    connections[fd] = connection
                } else {
                    close(fd)
                }
            }
            answered.removeAll(keepingCapacity: true)
            // After the batch, so that a connection whose request has just arrived is never
            // closed for having been quiet before it.
            upkeepOnceASecond(now)
            // A worker that keeps connections open (upstream keepalive) hands the turn on after
            // every batch: the other workers' kept connections can only be answered in their own
            // turns (bench/, keepalive 8, 8 workers: p99 53 → 22–27 ms; 2 workers: 13 → 11 ms).
            if connections.isEmpty {
                turnstile?.leaveIfHeldLong()
            } else {
                turnstile?.leave()
            }
        }
        turnstile?.leave()
        for fd in connections.keys { close(fd) }
    }

    /// Closes connections that have been quiet too long (`ConnectionLimits`).
    private static func closeExpired(_ connections: inout [Int32: FastCGIConnection], now: UInt64) {
        for (fd, connection) in connections where ConnectionLimits.hasExpired(connection, now: now) {
            close(fd)
            connections[fd] = nil
        }
    }

    /// Makes room at the cap: closes the connection quiet the longest among those not touched in
    /// this batch (`before`) and with nothing left to write. False if there is none.
    private static func closeQuietest(_ connections: inout [Int32: FastCGIConnection], before now: UInt64) -> Bool {
        var quietest: (fd: Int32, since: UInt64)?
        for (fd, connection) in connections where !connection.hasPendingOutput && connection.lastActivity < now {
            if quietest == nil || connection.lastActivity < quietest!.since { quietest = (fd, connection.lastActivity) }
        }
        guard let quietest else { return false }
        close(quietest.fd)
        connections[quietest.fd] = nil
        return true
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
