extension Schema {
    /// What the peers database (`database`, on tmpfs) is made of.
    static let peers = section("peers database")
    /// What the control database (`control-database`, on disk) is made of.
    static let control = section("control database")

    /// The statements from the line `-- ==== NAME ====` to the next such line or the end.
    private static func section(_ name: String) -> String {
        var lines: [Substring] = []
        var inside = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-- ==== ") {
                inside = line == "-- ==== \(name) ===="
                continue
            }
            if inside { lines.append(line) }
        }
        precondition(!lines.isEmpty, "schema.sql has no section '\(name)'")
        return lines.joined(separator: "\n")
    }
}
