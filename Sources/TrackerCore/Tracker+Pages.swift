/// The routes that are not announce or scrape: the status page, `.torrent` files and /stats.
extension Tracker {
    /// The HTML status page at the tracker's root, when it is on.
    func statusPage() -> (TrackerResponse, String) {
        guard policy.statusPage, let catalog else { return (failure(.notFound, status: 404), "request.other.not_found") }
        do {
            let (snapshot, busiest) = try catalog.busiest(limit: 50)
            let page = StatusPage.html(snapshot, busiest: busiest, title: "Shoal BitTorrent tracker")
            return (TrackerResponse(status: 200, body: Array(page.utf8), contentType: "text/html; charset=utf-8"),
                    "request.status_page.ok")
        } catch {
            logOnce("status page: \(error)")
            return (failure(.unavailable, status: 503, retryIn: policy.retryInMinutes), "request.status_page.unavailable")
        }
    }

    /// A registered .torrent file, when serving them is on; 404 for anything else.
    func torrentFile(_ request: TrackerRequest) -> (TrackerResponse, String) {
        let notFound = (TrackerResponse(status: 404, body: Array("no such torrent file\n".utf8)), "request.file.not_found")
        guard policy.serveTorrents, let catalog, let value = Self.queryValue(request.query, "info_hash") else {
            return notFound
        }
        let hash = InfoHash(value) ?? InfoHash(hex: String(decoding: value, as: UTF8.self))
        guard let hash else { return notFound }
        do {
            guard let file = try catalog.torrentFile(hash) else { return notFound }
            let filename = (file.name ?? hash.hex)
                .map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.() ".contains($0)) ? $0 : "_" }
            return (TrackerResponse(
                status: 200, body: file.bytes, contentType: "application/x-bittorrent",
                headers: [TrackerResponse.Header("Content-Disposition", "attachment; filename=\"\(String(filename)).torrent\"")]),
                "request.file.ok")
        } catch {
            logOnce("torrent file: \(error)")
            return (failure(.unavailable, status: 503, retryIn: policy.retryInMinutes), "request.file.unavailable")
        }
    }

    /// /stats for allowed networks or the token; 403 (or 404) for anyone else.
    func stats(_ request: TrackerRequest) -> (TrackerResponse, String) {
        guard mayReadStats(request) else {
            let status = policy.statsDeniedStatus
            return (TrackerResponse(status: status, body: Array((status == 404 ? "not found\n" : "forbidden\n").utf8)),
                    "request.stats.denied")
        }
        func value(_ name: String) -> String? { Self.queryValue(request.query, name).map { String(decoding: $0, as: UTF8.self) } }
        let mode = value("mode")
        guard let statsSource else { return (failure(.unavailable, status: 503), "request.stats.unavailable") }
        do {
            let snapshot = try statsSource.snapshot(includingTop: mode == "top100")
            if let mode, value("format") == nil {
                guard let text = StatsFormats.opentracker(mode: mode, snapshot) else {
                    return (TrackerResponse(status: 400, body: Array("unknown mode\n".utf8)), "request.stats.bad_mode")
                }
                let type = mode == "everything" ? "text/xml" : "text/plain"
                return (TrackerResponse(status: 200, body: Array(text.utf8), contentType: type), "request.stats.ok")
            }
            switch value("format") ?? "prometheus" {
            case "json":
                return (TrackerResponse(status: 200, body: Array(StatsFormats.json(snapshot).utf8),
                                        contentType: "application/json"), "request.stats.ok")
            case "prometheus", "txt", "text":
                return (TrackerResponse(status: 200, body: Array(StatsFormats.prometheus(snapshot).utf8),
                                        contentType: "text/plain; version=0.0.4"), "request.stats.ok")
            default:
                return (TrackerResponse(status: 400, body: Array("format must be prometheus or json\n".utf8)),
                        "request.stats.bad_format")
            }
        } catch {
            logOnce("statistics: \(error)")
            return (failure(.unavailable, status: 503, retryIn: policy.retryInMinutes), "request.stats.unavailable")
        }
    }

    /// The first value of a query parameter, percent-decoded.
    static func queryValue(_ query: [UInt8], _ name: String) -> [UInt8]? {
        for item in QueryString(query) where item.key.elementsEqual(name.utf8) {
            return try? percentDecoded(item.value)
        }
        return nil
    }

    /// From an allowed network, or with the token (compared in constant time).
    private func mayReadStats(_ request: TrackerRequest) -> Bool {
        if let raw = request.remoteAddress, let remote = IPAddress(text: raw) {
            let client = policy.clientAddress.clientAddress(remote: remote, headerValue: request.forwardedHeader)
            if policy.statsAllow.contains(where: { $0.contains(client) }) { return true }
        }
        guard !policy.statsToken.isEmpty else { return false }
        let expected = Array(policy.statsToken.utf8)
        var offered: [UInt8] = []
        if let header = request.authorization, header.starts(with: "Bearer ".utf8) {
            offered = Array(header.dropFirst(7))
        } else if let token = Self.queryValue(request.query, "token") {
            offered = token
        }
        guard offered.count == expected.count else { return false }
        return zip(offered, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
