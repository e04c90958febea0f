import CSQLite

/// A failure reported by SQLite: result codes, SQLite's message and the SQL text, but never the
/// bound values, so peer addresses and IDs stay out of logs.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let extendedCode: Int32
    public let message: String
    public let sql: String?

    init(code: Int32, database: OpaquePointer?, sql: String? = nil) {
        self.code = code & 0xff
        self.extendedCode = database.map { sqlite3_extended_errcode($0) } ?? code
        self.message = database.flatMap { sqlite3_errmsg($0).map { String(cString: $0) } }
            ?? String(cString: sqlite3_errstr(code))
        self.sql = sql
    }

    /// A refusal of Shoal's own, phrased like SQLite's.
    init(code: Int32, message: String) {
        self.code = code
        self.extendedCode = code
        self.message = message
        self.sql = nil
    }

    public var description: String {
        var text = "SQLite error \(code) (extended \(extendedCode)): \(message)"
        if let sql { text += " [\(sql.split(separator: "\n").map { $0.trimmingPrefix(while: \.isWhitespace) }.joined(separator: " "))]" }
        return text
    }
}

extension Substring {
    fileprivate func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring {
        self[(firstIndex { !predicate($0) } ?? endIndex)...]
    }
}
