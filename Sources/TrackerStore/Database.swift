import CSQLite
import Glibc

/// One SQLite connection, used by one thread. Each FastCGI worker process opens its own after
/// `fork` (a connection must never cross a fork).
public final class Database {
    let handle: OpaquePointer
    private let busyState: UnsafeMutablePointer<BusyState>

    /// Opens (creating if needed) the database at `path`; `":memory:"` is private to this connection.
    ///
    /// - Parameter busyTimeoutMilliseconds: how long a statement waits for another process's
    ///   write lock before failing with `SQLITE_BUSY`.
    /// - Parameter readOnly: opens an existing file for reading only, never creating it (for
    ///   commands that look at a database the responders own).
    public init(path: String, busyTimeoutMilliseconds: Int, readOnly: Bool = false) throws(SQLiteError) {
        var connection: OpaquePointer? = nil
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let error = SQLiteError(code: code, database: connection)
            sqlite3_close_v2(connection)
            throw error
        }
        handle = connection
        busyState = .allocate(capacity: 1)
        busyState.initialize(to: BusyState(timeoutNanoseconds: UInt64(max(0, busyTimeoutMilliseconds)) * 1_000_000))
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_handler(handle, yieldingBusyHandler, busyState)
    }

    /// How long a statement waits for another process's lock; may change between requests (a
    /// web server may send a busy timeout per virtual host), on the same connection.
    public var busyTimeoutMilliseconds: Int {
        get { Int(busyState.pointee.timeoutNanoseconds / 1_000_000) }
        set { busyState.pointee.timeoutNanoseconds = UInt64(max(0, newValue)) * 1_000_000 }
    }

    deinit {
        sqlite3_close_v2(handle)
        busyState.deinitialize(count: 1)
        busyState.deallocate()
    }

    /// Runs one or more statements that return no rows we need.
    public func execute(_ sql: String) throws(SQLiteError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw SQLiteError(code: code, database: handle, sql: sql) }
    }

    /// Compiles `sql` once; the statement lives as long as the returned object.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var statement: OpaquePointer? = nil
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw SQLiteError(code: code, database: handle, sql: sql) }
        return Statement(handle: statement, database: handle, sql: sql)
    }

    /// Switches a file to WAL, sets `pragmas` and applies `schema` in one write transaction.
    ///
    /// Setting up a new file races with every other process doing the same at the same moment
    /// (CGI starts a process per request). Switching to WAL can report SQLITE_BUSY without going
    /// through the busy handler, so the set-up is retried as a whole until the busy timeout.
    func setUp(wal: Bool, pragmas: String, schema: String) throws(SQLiteError) {
        try retryingWhileBusy { () throws(SQLiteError) in
            if wal {
                // WAL lets readers run beside the one writer; the mode is stored in the file, so
                // only the first process to open it pays for the switch.
                let mode = try prepare("PRAGMA journal_mode = WAL")
                defer { mode.reset() }
                _ = try mode.step()
            }
            try execute(pragmas)
            try execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                try execute(schema)
                try execute("COMMIT")
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs `body` again while it fails with SQLITE_BUSY or SQLITE_LOCKED, up to the busy timeout.
    func retryingWhileBusy(_ body: () throws(SQLiteError) -> Void) throws(SQLiteError) {
        var waited = 0
        while true {
            do {
                return try body()
            } catch where (error.code == SQLITE_BUSY || error.code == SQLITE_LOCKED) && waited < busyTimeoutMilliseconds {
                usleep(1000)
                waited += 1
            }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE … COMMIT` transaction, rolled back if it throws.
    public func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether no transaction is open on this connection.
    public var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }

    /// The rowid of the last row this connection inserted.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The integer a single-row, single-column query returns (for pragmas and checks).
    public func scalar(_ sql: String) throws(SQLiteError) -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.int64(at: 0)
    }
}

/// State for `yieldingBusyHandler`: when the current wait started and how long it may last.
struct BusyState {
    var timeoutNanoseconds: UInt64
    var startedAt: UInt64 = 0
}

private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// SQLite's own busy timeout sleeps in steps of 1 to 100 ms, far longer than a tracker's write
/// transaction (tens of microseconds) holds the lock, so waiting writers oversleep and latency
/// suffers. Yield first, then sleep briefly, until the timeout.
private let yieldingBusyHandler: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, attempts in
    guard let state = context?.assumingMemoryBound(to: BusyState.self) else { return 0 }
    let now = monotonicNanoseconds()
    if attempts == 0 { state.pointee.startedAt = now }
    if now - state.pointee.startedAt >= state.pointee.timeoutNanoseconds { return 0 }
    if attempts < 64 {
        sched_yield()
    } else {
        usleep(UInt32(min(Int(attempts - 63) * 20, 500)))
    }
    return 1
}
