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

/// A request path read as a route and, for private tracking, the credential it carries:
/// `/<credential>/announce` and `/<credential>/scrape` (canonical: hex never spells "announce", so
/// a client that derives the scrape URL by replacing "announce" gets the right one), and
/// `/announce/<credential>`, `/scrape/<credential>` as other engines spell them. Anything else
/// routes as `Route` does, without a credential.
public struct RoutedPath: Equatable, Sendable {
    public var route: Route
    public var credential: ArraySlice<UInt8>?

    public init?(path: [UInt8]) {
        let slash = UInt8(ascii: "/")
        let lastStart = (path.lastIndex(of: slash) ?? -1) + 1
        let last = path[lastStart...]
        let beforeEnd = max(0, lastStart - 1)
        let beforeStart = (path[..<beforeEnd].lastIndex(of: slash) ?? -1) + 1
        let before = lastStart > 0 ? path[beforeStart..<beforeEnd] : path[0..<0]
        if let route = Route(path: path) {
            self.route = route
            let isTracker = route == .announce || route == .scrape
            credential = isTracker && Credential.isCredentialShaped(before) ? before : nil
            return
        }
        guard Credential.isCredentialShaped(last), let route = Route(path: before),
            route == .announce || route == .scrape
        else { return nil }
        self.route = route
        credential = last
    }
}
