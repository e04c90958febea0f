import Glibc

/// A full scrape on disk: `PATH` and `PATH.gz`, each replaced whole by `rename`, so a reader (a
/// responder, or the cluster front's nginx serving the merged copy) always gets a complete copy.
public enum FullScrapeFiles {
    /// Writes the gzip copy first and the plain one last: a reader that finds the plain one finds
    /// a gzip copy at least as new.
    public static func write(_ body: [UInt8], to path: String, mode: mode_t) throws {
        guard let compressed = Gzip.compress(body) else {
            throw SQLiteError(code: 1, message: "gzip failed for the full scrape")
        }
        try replace(path + ".gz", with: compressed, mode: mode)
        try replace(path, with: body, mode: mode)
    }

    private static func replace(_ file: String, with bytes: [UInt8], mode: mode_t) throws {
        let temporary = file + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SQLiteError(code: 14, message: "cannot write \(temporary): \(errnoText())") }
        var done = 0
        while done < bytes.count {
            let wrote = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            guard wrote > 0 else {
                let problem = errnoText()
                close(fd)
                unlink(temporary)
                throw SQLiteError(code: 13, message: "cannot write \(temporary): \(problem)")
            }
            done += wrote
        }
        close(fd)
        guard rename(temporary, file) == 0 else {
            unlink(temporary)
            throw SQLiteError(code: 14, message: "cannot rename \(temporary): \(errnoText())")
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
