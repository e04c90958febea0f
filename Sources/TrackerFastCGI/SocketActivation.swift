import Glibc

/// systemd socket activation (sd_listen_fds(3)): the listening socket a `.socket` unit opened,
/// handed to us as file descriptor 3 with LISTEN_PID and LISTEN_FDS in the environment.
public enum SocketActivation {
    /// The first inherited listening socket, or nil when we were not socket-activated. Clears the
    /// variables, so that processes we start do not believe the sockets are theirs.
    public static func inheritedListener() throws(ListenError) -> Int32? {
        guard let pidText = getenv("LISTEN_PID"), let countText = getenv("LISTEN_FDS") else { return nil }
        let pid = pid_t(String(cString: pidText))
        let count = Int(String(cString: countText)) ?? 0
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_FDNAMES")
        guard pid == getpid(), count >= 1 else { return nil }
        let descriptor: Int32 = 3  // SD_LISTEN_FDS_START
        if count > 1 {
            throw ListenError(description: "socket activation passed \(count) sockets; shoal serves one. Give the .socket unit a single Listen… line")
        }
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting != 0 else {
            throw ListenError(description: "socket activation passed file descriptor 3, but it is not a listening stream socket. Use ListenStream= and Accept=no in the .socket unit")
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return descriptor
    }
}
