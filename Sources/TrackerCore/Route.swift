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

    public init?(path: [UInt8]) {
        self.init(path: path[...])
    }

    /// Reads the last segment in place: comparing bytes, never building a String, since this runs
    /// for every request (decoding a reversed collection into a String cost a dynamic cast,
    /// about 8,000 instructions, per request).
    public init?(path: ArraySlice<UInt8>) {
        let slash = UInt8(ascii: "/")
        let lastStart = path[...].lastIndex(of: slash).map { $0 + 1 } ?? path.startIndex
        let segment = path[lastStart...]
        switch segment.count {
        case 8 where segment.elementsEqual(Self.announceName): self = .announce
        case 12 where segment.elementsEqual(Self.announcePHPName): self = .announce
        case 6 where segment.elementsEqual(Self.scrapeName): self = .scrape
        case 10 where segment.elementsEqual(Self.scrapePHPName): self = .scrape
        case 4 where segment.elementsEqual(Self.fileName): self = .torrentFile
        case 0:
            // `/tracker/` is a root; `/announce/` is a mistyped announce URL, not a page.
            guard lastStart > path.startIndex else {
                self = .statusPage  // an empty path (a CGI request for the root)
                return
            }
            let before = path[..<(lastStart - 1)]
            let beforeStart = before.lastIndex(of: slash).map { $0 + 1 } ?? before.startIndex
            guard before[beforeStart...].isEmpty || Route(path: before[beforeStart...]) == nil else { return nil }
            self = .statusPage
        default: return nil
        }
    }

    private static let announceName = Array("announce".utf8)
    private static let announcePHPName = Array("announce.php".utf8)
    private static let scrapeName = Array("scrape".utf8)
    private static let scrapePHPName = Array("scrape.php".utf8)
    private static let fileName = Array("file".utf8)
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
        guard Credential.isCredentialShaped(last), let route = Route(path: before[...]),
            route == .announce || route == .scrape
        else { return nil }
        self.route = route
        credential = last
    }
}
