/// /stats in its three forms: Prometheus's text exposition format, one JSON document, and
/// opentracker's `mode=` outputs, shaped exactly like opentracker's so that MRTG and munin
/// scripts written for it read Shoal unchanged.
public enum StatsFormats {
    public static let version = "shoal 0.11"

    // MARK: - Prometheus

    public static func prometheus(_ s: StatsSnapshot) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int64)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        metric("shoal_torrents", "gauge", "Swarms with peers or completed downloads.", [("", s.torrents)])
        metric("shoal_peers", "gauge", "Peers stored, by address family.",
               [("{family=\"ipv4\"}", s.peersIPv4), ("{family=\"ipv6\"}", s.peersIPv6)])
        metric("shoal_seeders", "gauge", "Peers that have the whole torrent.", [("", s.seeders)])
        metric("shoal_leechers", "gauge", "Peers still downloading (partial seeds included).", [("", s.leechers)])
        metric("shoal_completed_total", "counter", "Completed downloads counted (BEP 48 downloaded, summed).",
               [("", s.completed)])
        metric("shoal_requests_total", "counter", "Requests answered, by route and outcome.",
               s.requests.map { ("{route=\"\($0.route)\",outcome=\"\($0.outcome)\"}", $0.count) })
        out += "# HELP shoal_batch_size Requests answered per batch (one SQLite transaction).\n"
            + "# TYPE shoal_batch_size histogram\n"
        for bound in StatsCounters.batchBuckets {
            out += "shoal_batch_size_bucket{le=\"\(bound)\"} \(s.counter("batch_size_le_\(bound)"))\n"
        }
        out += "shoal_batch_size_bucket{le=\"+Inf\"} \(s.counter("batches"))\n"
            + "shoal_batch_size_sum \(s.counter("batch_requests"))\nshoal_batch_size_count \(s.counter("batches"))\n"
        metric("shoal_turn_waits_total", "counter", "Times a worker waited for another to finish its turn.",
               [("", s.counter("turn_waits"))])
        out += "# HELP shoal_turn_wait_seconds_total Time workers spent waiting for their turn.\n"
            + "# TYPE shoal_turn_wait_seconds_total counter\n"
            + "shoal_turn_wait_seconds_total \(decimal(s.counter("turn_wait_us"), scale: 1_000_000))\n"
        metric("shoal_turn_timeouts_total", "counter", "Waits for the turn that ran out (busy-timeout).",
               [("", s.counter("turn_timeouts"))])
        metric("shoal_expired_peers_removed_total", "counter", "Peers deleted after they stopped announcing.",
               [("", s.counter("expired_removed"))])
        metric("shoal_full_scrapes_total", "counter", "Full scrapes, served and throttled.",
               [("{outcome=\"served\"}", s.counter("full_scrape.served")),
                ("{outcome=\"throttled\"}", s.counter("full_scrape.throttled"))])
        metric("shoal_database_bytes", "gauge", "Bytes of the peers database's pages in use.", [("", s.databaseBytes)])
        metric("shoal_database_free_bytes", "gauge", "Bytes of free pages inside the peers database.",
               [("", s.databaseFreeBytes)])
        metric("shoal_wal_bytes", "gauge", "Size of the peers database's write-ahead log.", [("", s.walBytes)])
        metric("shoal_workers_started_total", "counter", "Worker processes started.", [("", s.counter("workers_started"))])
        metric("shoal_workers_replaced_total", "counter", "Workers started to replace one that died or was killed.",
               [("", s.counter("workers_replaced"))])
        if let listed = s.listedTorrents {
            metric("shoal_listed_torrents", "gauge", "Torrents on the access list.", [("", listed)])
        }
        if let rules = s.clientRules { metric("shoal_client_rules", "gauge", "Client rules.", [("", rules)]) }
        metric("shoal_database_age_seconds", "gauge", "Seconds since the peers database was created.",
               [("", s.uptimeSeconds)])
        metric("shoal_ledger_rows", "gauge", "Private tracking: ledger rows the site has not acknowledged.",
               [("", s.ledgerRows)])
        metric("shoal_ledger_oldest_age_seconds", "gauge",
               "Private tracking: age of the oldest unacknowledged ledger row (how far behind the site's drain is).",
               [("", s.ledgerOldestAgeSeconds)])
        metric("shoal_ledger_last_seq", "gauge", "Private tracking: the last ledger seq given out.", [("", s.ledgerLastSeq)])
        return out
    }

    // MARK: - JSON

    public static func json(_ s: StatsSnapshot) -> String {
        var fields: [(String, String)] = [
            ("torrents", "\(s.torrents)"), ("peers", "\(s.peers)"), ("seeders", "\(s.seeders)"),
            ("leechers", "\(s.leechers)"), ("peers_ipv4", "\(s.peersIPv4)"), ("peers_ipv6", "\(s.peersIPv6)"),
            ("completed", "\(s.completed)"),
        ]
        var routes: [String: [(String, Int64)]] = [:]
        for request in s.requests { routes[request.route, default: []].append((request.outcome, request.count)) }
        let requests = routes.keys.sorted().map { route in
            "\"\(route)\": {" + routes[route]!.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
        fields.append(("requests", "{" + requests.joined(separator: ", ") + "}"))
        let buckets = StatsCounters.batchBuckets.map { "\"\($0)\": \(s.counter("batch_size_le_\($0)"))" }
        fields.append(("batches", """
            {"count": \(s.counter("batches")), "requests": \(s.counter("batch_requests")), \
            "size_at_most": {\(buckets.joined(separator: ", "))}}
            """))
        fields.append(("turn", """
            {"waits": \(s.counter("turn_waits")), "wait_seconds": \(decimal(s.counter("turn_wait_us"), scale: 1_000_000)), \
            "timeouts": \(s.counter("turn_timeouts"))}
            """))
        fields.append(("expired_peers_removed", "\(s.counter("expired_removed"))"))
        fields.append(("full_scrapes", """
            {"served": \(s.counter("full_scrape.served")), "throttled": \(s.counter("full_scrape.throttled"))}
            """))
        fields.append(("database", """
            {"bytes": \(s.databaseBytes), "free_bytes": \(s.databaseFreeBytes), "wal_bytes": \(s.walBytes), \
            "age_seconds": \(s.uptimeSeconds)}
            """))
        fields.append(("workers", """
            {"started": \(s.counter("workers_started")), "replaced": \(s.counter("workers_replaced"))}
            """))
        fields.append(("ledger", """
            {"rows": \(s.ledgerRows), "oldest_age_seconds": \(s.ledgerOldestAgeSeconds), "last_seq": \(s.ledgerLastSeq)}
            """))
        fields.append(("listed_torrents", s.listedTorrents.map(String.init) ?? "null"))
        fields.append(("client_rules", s.clientRules.map(String.init) ?? "null"))
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    // MARK: - opentracker's modes

    /// The opentracker modes Shoal answers; others get nil (then 400, as opentracker answers).
    public static func opentracker(mode: String, _ s: StatsSnapshot) -> String? {
        let uptime = max(1, s.uptimeSeconds)
        let since = "\(uptime) seconds (\(uptime / 3600) hours)"
        let announces = s.counter("request.announce.ok")
        let scrapes = s.counter("request.scrape.ok")
        let requests = s.requests.reduce(0) { $0 + $1.count }
        switch mode {
        case "peer":
            return "\(s.peers)\n\(s.seeders)\nopentracker serving \(s.torrents) torrents\nopentracker"
        case "torr":
            return "\(s.torrents)\n0\nopentracker serving \(s.torrents) torrents\nopentracker"
        case "conn":
            return "\(requests)\n\(announces)\n\(since)\nopentracker connections, \(requests / uptime) conns/s :: "
                + "\(announces / uptime) success/s."
        case "scrp":
            return "\(scrapes)\n0\n\(since)\nopentracker scrape stats, \(scrapes / uptime) scrape/s (tcp and udp)"
        case "fscr":
            let served = s.counter("full_scrape.served")
            let bytes = s.counter("full_scrape.bytes")
            return "\(served)\n\(bytes)\n\(since)\nopentracker full scrape stats, \(served / uptime) conns/s :: "
                + "\(bytes / uptime) bytes/s."
        case "completed":
            return "\(s.completed)\n0\n\(since)\nopentracker, \(s.completed * 3600 / uptime) completed/h."
        case "busy":
            // Shoal's closest figure to "busy": waits for the turn and those that ran out.
            return "\(s.counter("turn_waits"))\n\(s.counter("turn_timeouts"))\n\(since)\n"
                + "opentracker busy stats, \(s.counter("turn_waits") / uptime) waits/s."
        case "top100":
            func list(_ entries: [(hash: [UInt8], count: Int64)]) -> String {
                entries.map { "\t\($0.count)\t\(Hex.encode($0.hash, uppercase: true))\n" }.joined()
            }
            return "Top 100 torrents by peers:\n" + list(s.topByPeers) + "Top 100 torrents by seeds:\n"
                + list(s.topBySeeders)
        case "version":
            return version + "\n"
        case "herr":
            let notFound = s.counter("request.other.not_found")
            let badRequests = s.requests.filter { $0.outcome != "ok" && $0.outcome != "not_found" && $0.outcome != "unavailable" }
                .reduce(0) { $0 + $1.count }
            let unavailable = s.requests.filter { $0.outcome == "unavailable" }.reduce(0) { $0 + $1.count }
            return "302 RED 0\n400 ... 0\n400 PAR \(badRequests)\n400 COM 0\n403 IP  0\n404 INV \(notFound)\n"
                + "500 SRV \(unavailable)\n"
        case "everything":
            return everything(s, uptime: uptime)
        default:
            return nil
        }
    }

    /// opentracker's `mode=everything` XML document, with Shoal's figures in its elements.
    private static func everything(_ s: StatsSnapshot, uptime: Int64) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <stats>
          <tracker_id>0</tracker_id>
          <version>
        \(version)
          </version>
          <uptime>\(uptime)</uptime>
          <torrents>
            <count_mutex>\(s.torrents)</count_mutex>
            <count_iterator>\(s.torrents)</count_iterator>
          </torrents>
          <peers>
            <count>\(s.peers)</count>
          </peers>
          <seeds>
            <count>\(s.seeders)</count>
          </seeds>
          <completed>
            <count>\(s.completed)</count>
          </completed>
          <connections>
            <tcp>
              <accept>\(s.requests.reduce(0) { $0 + $1.count })</accept>
              <announce>\(s.counter("request.announce.ok"))</announce>
              <scrape>\(s.counter("request.scrape.ok"))</scrape>
            </tcp>
            <udp>
              <overall>0</overall>
              <connect>0</connect>
              <announce>0</announce>
              <scrape>0</scrape>
              <missmatch>0</missmatch>
            </udp>
            <livesync>
              <count>0</count>
            </livesync>
          </connections>
        </stats>

        """
    }

    /// `amount / scale` with six decimals, for seconds counted in microseconds.
    static func decimal(_ amount: Int64, scale: Int64) -> String {
        let fraction = String(amount % scale)
        return "\(amount / scale)." + String(repeating: "0", count: max(0, 6 - fraction.count)) + fraction
    }
}
