/// Which tracker endpoint a request path names.
///
/// Only the last path segment counts, so the tracker can be mounted under any prefix
/// (`/tracker/announce`); `.php` spellings are accepted for clients carrying URLs from the PHP trackers.
public enum Route: Equatable, Sendable {
    case announce
    case scrape
    /// The tracker's root (`/`, `/tracker/`): the status page, when it is on.
    case statusPage
    /// `file?info_hash=…`: a registered .torrent, when serving them is on.
    case torrentFile

    public init?<C: BidirectionalCollection>(path: C) where C.Element == UInt8 {
        let segment = path.reversed().prefix { $0 != UInt8(ascii: "/") }.reversed()
        switch String(decoding: segment, as: UTF8.self) {
        case "announce", "announce.php": self = .announce
        case "scrape", "scrape.php": self = .scrape
        case "":
            // `/tracker/` is a root; `/announce/` is a mistyped announce URL, not a page.
            let before = path.reversed().dropFirst().prefix { $0 != UInt8(ascii: "/") }.reversed()
            guard before.isEmpty || Route(path: Array(before)) == nil else { return nil }
            self = .statusPage
        case "file": self = .torrentFile
        default: return nil
        }
    }
}
