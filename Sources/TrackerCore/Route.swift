/// Which tracker endpoint a request path names.
///
/// Only the last path segment counts, so the tracker can be mounted under any prefix
/// (`/tracker/announce`); `.php` spellings are accepted for clients carrying URLs from the PHP trackers.
public enum Route: Equatable, Sendable {
    case announce
    case scrape

    public init?<C: BidirectionalCollection>(path: C) where C.Element == UInt8 {
        let segment = path.reversed().prefix { $0 != UInt8(ascii: "/") }.reversed()
        switch String(decoding: segment, as: UTF8.self) {
        case "announce", "announce.php": self = .announce
        case "scrape", "scrape.php": self = .scrape
        default: return nil
        }
    }
}
