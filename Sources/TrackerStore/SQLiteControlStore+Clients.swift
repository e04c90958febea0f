/// A client rule as commands set and show it.
public struct ClientRule: Equatable, Sendable {
    public enum Kind: String, Sendable { case allow, deny }
    /// The leading bytes of a peer_id, 1 to 20.
    public var prefix: [UInt8]
    public var kind: Kind
    /// Unix time it was set.
    public var added: Int64

    public init(prefix: [UInt8], kind: Kind, added: Int64) {
        self.prefix = prefix
        self.kind = kind
        self.added = added
    }
}

extension SQLiteControlStore {
    /// Sets the rule for a prefix, replacing any earlier rule for the same prefix.
    public func setClientRule(_ rule: ClientRule) throws {
        let statement = try database.prepare("""
            INSERT INTO client_rules (prefix, rule, added) VALUES (?1, ?2, ?3)
            ON CONFLICT (prefix) DO UPDATE SET rule = excluded.rule, added = excluded.added
            WHERE rule <> excluded.rule
            """)
        statement.bind(rule.prefix, at: 1)
        statement.bind(rule.kind.rawValue, at: 2)
        statement.bind(rule.added, at: 3)
        try statement.run()
    }

    /// False if there was no rule for `prefix`.
    public func removeClientRule(prefix: [UInt8]) throws -> Bool {
        let statement = try database.prepare("DELETE FROM client_rules WHERE prefix = ?1")
        statement.bind(prefix, at: 1)
        try statement.run()
        return database.changes > 0
    }

    /// Every rule, by prefix.
    public func clientRuleList() throws -> [ClientRule] {
        let rows = try database.prepare("SELECT prefix, rule, added FROM client_rules ORDER BY prefix")
        var result: [ClientRule] = []
        while try rows.step() {
            result.append(ClientRule(
                prefix: rows.blob(at: 0), kind: rows.text(at: 1) == "allow" ? .allow : .deny, added: rows.int64(at: 2)))
        }
        return result
    }
}
