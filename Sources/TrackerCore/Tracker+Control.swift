/// The site's control endpoint: `<prefix>/<control-secret>/…`, from `control-allow` networks only.
extension Tracker {
    func control(_ action: ControlAction, _ request: TrackerRequest) -> (TrackerResponse, String) {
        guard mayUseControl(request) else { return (text(403, "forbidden\n"), "request.control.denied") }
        guard let admin = siteAdministration else {
            return (text(503, "the control endpoint needs the control database, which is not available\n"),
                    "request.control.unavailable")
        }
        let isPost = request.method == Array("POST".utf8)
        func number(_ name: String) -> Int64? {
            Self.queryValue(request.query, name).flatMap { parseUnsigned($0[...]) }.flatMap { Int64(exactly: $0) }
        }
        do {
            switch action {
            case .ledger:
                let page = try admin.ledgerPage(after: number("after") ?? 0, limit: Int(number("limit") ?? 10_000))
                return (text(200, page.tsv, type: "text/tab-separated-values"), "request.control.ledger")
            case .acknowledge:
                guard let epoch = number("epoch"), let through = number("through") else {
                    return (text(400, "give epoch and through\n"), "request.control.bad_request")
                }
                guard try admin.acknowledgeLedger(epoch: epoch, through: through) else {
                    return (text(409, "epoch \(epoch) is not the ledger's: it was made anew; drain it from after=0\n"),
                            "request.control.epoch_mismatch")
                }
                return (text(200, "acknowledged through \(through)\n"), "request.control.ack")
            case .table(let table) where !isPost:
                let rows = try admin.siteRows(table)
                let lines = rows.map { row in zip(table.columns, row).map { $0.render($1) }.joined(separator: "\t") }
                return (text(200, lines.map { $0 + "\n" }.joined(), type: "text/tab-separated-values"), "request.control.list")
            case .table, .add, .remove:
                guard isPost else { return (text(405, "use POST to change a table\n"), "request.control.bad_method") }
                guard !request.bodyTooLarge else {
                    return (text(413, "body too large: send the table in parts with /add, or use shoal site\n"),
                            "request.control.too_large")
                }
                return try change(action, body: request.body, admin: admin)
            case .swarms:
                return try swarms(request)
            case .unknown:
                return (text(404, "unknown control action: ledger, ledger/ack, swarms, site/<table>[/add|/remove]\n"),
                        "request.control.not_found")
            }
        } catch let refusal as SiteInputError {
            return (text(400, "\(refusal)\n"), "request.control.bad_request")
        } catch {
            logOnce("control endpoint: \(error)")
            return (text(503, "the tracker's database is not available; try again\n"), "request.control.unavailable")
        }
    }

    private func change(_ action: ControlAction, body: [UInt8], admin: any SiteAdministration) throws -> (TrackerResponse, String) {
        switch action {
        case .table(let table):
            let count = try admin.replaceSiteTable(table, with: try table.parse(body))
            return (text(200, "replaced \(table.rawValue): \(count) rows\n"), "request.control.replace")
        case .add(let table):
            let rows = try table.parse(body)
            try admin.addSiteRows(rows, to: table)
            return (text(200, "added \(rows.count) rows to \(table.rawValue)\n"), "request.control.add")
        case .remove(let table):
            let removed = try admin.removeSiteRows(try table.parse(body, keysOnly: true), from: table)
            return (text(200, "removed \(removed) rows from \(table.rawValue)\n"), "request.control.remove")
        default:
            preconditionFailure("only changes come here")
        }
    }

    /// Seeders, leechers and snatches per torrent (`info_hash` repeated, binary or hex), as TSV.
    private func swarms(_ request: TrackerRequest) throws -> (TrackerResponse, String) {
        var hashes: [InfoHash] = []
        for item in QueryString(request.query) where item.key.elementsEqual("info_hash".utf8) {
            guard let value = try? percentDecoded(item.value),
                let hash = InfoHash(value) ?? InfoHash(hex: String(decoding: value, as: UTF8.self))
            else { return (text(400, "info_hash must be 20 bytes or 40 hex digits\n"), "request.control.bad_request") }
            hashes.append(hash)
        }
        guard hashes.count <= Self.maxSwarmsPerRequest else {
            return (text(400, "at most \(Self.maxSwarmsPerRequest) info_hash per request\n"), "request.control.bad_request")
        }
        let counts = hashes.isEmpty ? [] : try store.scrape(hashes)
        var out = "info_hash\tseeders\tleechers\tsnatches\n"
        for (hash, swarm) in zip(hashes, counts) {
            out += "\(hash.hex)\t\(swarm.seeders)\t\(swarm.leechers)\t\(swarm.downloaded)\n"
        }
        return (text(200, out, type: "text/tab-separated-values"), "request.control.swarms")
    }

    static let maxSwarmsPerRequest = 1000

    /// From a `control-allow` network, judged by the client address (after trusted proxies).
    private func mayUseControl(_ request: TrackerRequest) -> Bool {
        guard let raw = request.remoteAddress, let remote = IPAddress(text: raw) else { return false }
        let client = policy.clientAddress.clientAddress(remote: remote, headerValue: request.forwardedHeader)
        return policy.controlAllow.contains { $0.contains(client) }
    }

    private func text(_ status: Int, _ body: String, type: String = "text/plain; charset=utf-8") -> TrackerResponse {
        TrackerResponse(status: status, body: Array(body.utf8), contentType: type)
    }
}
