/// One row of the ledger the site drains (see `SQLiteLedger`).
public struct LedgerRow: Equatable, Sendable {
    public var seq: Int64
    public var time: Int64
    public var user: UInt32
    public var infoHash: [UInt8]
    /// started, update, completed (a snatch), stopped, paused, expired.
    public var event: String
    public var uploaded: Int64
    public var downloaded: Int64
    public var seconds: Int64
    public var seeding: Int64
    public var left: Int64
    public var flags: LedgerFlags

    public init(
        seq: Int64, time: Int64, user: UInt32, infoHash: [UInt8], event: String, uploaded: Int64, downloaded: Int64,
        seconds: Int64, seeding: Int64, left: Int64, flags: LedgerFlags
    ) {
        self.seq = seq
        self.time = time
        self.user = user
        self.infoHash = infoHash
        self.event = event
        self.uploaded = uploaded
        self.downloaded = downloaded
        self.seconds = seconds
        self.seeding = seeding
        self.left = left
        self.flags = flags
    }

    public static let columns = ["seq", "time", "user", "info_hash", "event", "uploaded", "downloaded", "seconds",
                                 "seeding", "left", "flags"]

    /// The row as a TSV line (info_hash in lowercase hex, flags by name).
    public var tsv: String {
        "\(seq)\t\(time)\t\(user)\t\(Hex.encode(infoHash))\t\(event)\t\(uploaded)\t\(downloaded)\t\(seconds)\t\(seeding)\t\(left)\t\(flags.text)"
    }
}

/// A page of the ledger: the rows after a position, and the epoch they belong to.
public struct LedgerPage: Equatable, Sendable {
    /// Changes when the peers database is made anew (its `seq` numbers start again).
    public var epoch: Int64
    public var rows: [LedgerRow]
    /// The last `seq` held (0: none), so a site can tell how far behind it is.
    public var last: Int64

    public init(epoch: Int64, rows: [LedgerRow], last: Int64) {
        self.epoch = epoch
        self.rows = rows
        self.last = last
    }

    /// The drain's reply: a header line, the column names, then one line per row.
    public var tsv: String {
        var out = "# shoal ledger\tepoch=\(epoch)\trows=\(rows.count)\tlast=\(last)\n"
        out += LedgerRow.columns.joined(separator: "\t") + "\n"
        for row in rows { out += row.tsv + "\n" }
        return out
    }
}
