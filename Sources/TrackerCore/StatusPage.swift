/// The status page (`status-page = yes`): the tracker's totals and its busiest torrents with their
/// names when known (the reference tracker's `show_names`), in plain HTML and CSS that a phone
/// reads without zooming and that needs no script.
public enum StatusPage {
    /// One row of the busiest torrents.
    public struct Entry: Sendable {
        public var infoHash: [UInt8]
        public var name: String?
        public var seeders: Int64
        public var leechers: Int64
        public var downloaded: Int64
        /// Its .torrent can be downloaded from `file?info_hash=…`.
        public var hasFile: Bool

        public init(infoHash: [UInt8], name: String?, seeders: Int64, leechers: Int64, downloaded: Int64, hasFile: Bool) {
            self.infoHash = infoHash
            self.name = name
            self.seeders = seeders
            self.leechers = leechers
            self.downloaded = downloaded
            self.hasFile = hasFile
        }
    }

    public static func html(_ s: StatsSnapshot, busiest: [Entry], title: String) -> String {
        let rows = busiest.map { entry -> String in
            let hex = Hex.encode(entry.infoHash)
            let label = escape(entry.name ?? hex)
            let name = entry.hasFile ? "<a href=\"file?info_hash=\(hex)\">\(label)</a>" : label
            return "<tr><td class=\"name\">\(name)</td><td>\(entry.seeders)</td><td>\(entry.leechers)</td>"
                + "<td>\(entry.downloaded)</td></tr>"
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title))</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 1rem; max-width: 60rem; color: #222; }
            h1 { font-size: 1.4rem; }
            dl.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); gap: .5rem; }
            dl.totals div { background: #f3f3f3; border-radius: .4rem; padding: .5rem .7rem; }
            dt { font-size: .8rem; color: #666; } dd { margin: 0; font-size: 1.3rem; font-weight: 600; }
            table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
            th, td { text-align: right; padding: .3rem .4rem; border-bottom: 1px solid #ddd; white-space: nowrap; }
            th:first-child, td.name { text-align: left; white-space: normal; overflow-wrap: anywhere; width: 60%; }
            </style>
            </head>
            <body>
            <h1>\(escape(title))</h1>
            <dl class="totals">
            <div><dt>Torrents</dt><dd id="torrents">\(s.torrents)</dd></div>
            <div><dt>Peers</dt><dd id="peers">\(s.peers)</dd></div>
            <div><dt>Seeders</dt><dd id="seeders">\(s.seeders)</dd></div>
            <div><dt>Leechers</dt><dd id="leechers">\(s.leechers)</dd></div>
            <div><dt>Completed</dt><dd id="completed">\(s.completed)</dd></div>
            </dl>
            <table id="busiest">
            <caption>Busiest torrents</caption>
            <thead><tr><th>Torrent</th><th>Seeders</th><th>Leechers</th><th>Completed</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            </body>
            </html>

            """
    }

    /// Text for HTML: the five characters that could start markup or end an attribute escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Where the status page and `file?info_hash=` get names and .torrent files.
public protocol TorrentCatalog: AnyObject {
    /// The busiest swarms the access list allows, with names when known; at most `limit`.
    func busiest(limit: Int) throws -> (StatsSnapshot, [StatusPage.Entry])
    /// A registered torrent's .torrent file and name, if it has one.
    func torrentFile(_ infoHash: InfoHash) throws -> (bytes: [UInt8], name: String?)?
}
