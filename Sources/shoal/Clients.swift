import ArgumentParser
import Foundation
import TrackerCore
import TrackerStore

/// `shoal clients`: peer_id prefix rules, live on the next request like the torrent list.
struct Clients: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Allow or deny BitTorrent clients by peer_id prefix (-qB, -TR4, -lt0D).",
        discussion: """
            Any allow rule makes the rules an allow-list: a peer_id must then start with an allowed \
            prefix. A peer_id that starts with a denied prefix is refused in every case ("client not \
            allowed on this tracker", with retry in). Rules apply in every access mode. A prefix is \
            1 to 20 bytes; %XX writes any byte (%2D is -).
            """,
        subcommands: [Allow.self, Deny.self, Remove.self, List.self]
    )

    struct Allow: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Allow peer_ids starting with these prefixes.")
        @OptionGroup var options: TrackerOptions
        @Argument(parsing: .allUnrecognized, help: "peer_id prefixes (they start with -, which is fine)") var prefixes: [String]
        func run() throws { try Clients.set(.allow, prefixes, options) }
    }

    struct Deny: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse peer_ids starting with these prefixes.")
        @OptionGroup var options: TrackerOptions
        @Argument(parsing: .allUnrecognized, help: "peer_id prefixes (they start with -, which is fine)") var prefixes: [String]
        func run() throws { try Clients.set(.deny, prefixes, options) }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the rules for these prefixes.")
        @OptionGroup var options: TrackerOptions
        @Argument(parsing: .allUnrecognized, help: "peer_id prefixes (they start with -, which is fine)") var prefixes: [String]

        func run() throws {
            let (control, _) = try ControlCommand.open(options)
            let parsed = Clients.parse(prefixes)
            var refusals = parsed.refusals
            var lines: [String] = []
            try ControlCommand.apply(control) {
                for prefix in parsed.prefixes {
                    if try control.removeClientRule(prefix: prefix) {
                        lines.append("removed \(ClientPrefix.text(prefix))")
                    } else {
                        refusals.append("\(ClientPrefix.text(prefix)): no rule for this prefix")
                    }
                }
            }
            lines.forEach { print($0) }
            try ControlCommand.finish(refusals: refusals)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the rules: allow or deny, prefix, when set.")
        @OptionGroup var options: TrackerOptions
        @Flag(help: "One JSON array of objects instead of lines.") var json = false

        func run() throws {
            let (control, _) = try ControlCommand.open(options)
            let rules = try control.clientRuleList()
            if json {
                let rows = rules.map { ["rule": $0.kind.rawValue, "prefix": ClientPrefix.text($0.prefix), "added": isoDate($0.added)] }
                let data = try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for rule in rules { print("\(rule.kind.rawValue)\t\(ClientPrefix.text(rule.prefix))\t\(isoDate(rule.added))") }
            }
        }
    }

    static func set(_ kind: ClientRule.Kind, _ prefixes: [String], _ options: TrackerOptions) throws {
        let (control, _) = try ControlCommand.open(options)
        let parsed = parse(prefixes)
        let now = ControlCommand.now
        try ControlCommand.apply(control) {
            for prefix in parsed.prefixes { try control.setClientRule(ClientRule(prefix: prefix, kind: kind, added: now)) }
        }
        parsed.prefixes.forEach { print("\(kind.rawValue) \(ClientPrefix.text($0))") }
        try ControlCommand.finish(refusals: parsed.refusals)
    }

    static func parse(_ items: [String]) -> (prefixes: [[UInt8]], refusals: [String]) {
        var prefixes: [[UInt8]] = []
        var refusals: [String] = []
        for item in items {
            switch ClientPrefix.bytes(item) {
            case .success(let bytes): prefixes.append(bytes)
            case .failure(let problem): refusals.append("\(item): \(problem.text)")
            }
        }
        return (prefixes, refusals)
    }
}

/// A peer_id prefix as text: printable ASCII as is, other bytes (and %) as %XX.
enum ClientPrefix {
    struct Problem: Error { let text: String }

    static func bytes(_ text: String) -> Result<[UInt8], Problem> {
        percentDecoded(text).flatMap { result in
            (1...20).contains(result.count)
                ? .success(result) : .failure(Problem(text: "a prefix is 1 to 20 bytes of a peer_id (got \(result.count))"))
        }
    }

    /// The bytes of `text`, with each %XX read as one byte.
    static func percentDecoded(_ text: String) -> Result<[UInt8], Problem> {
        var result: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                    return .failure(Problem(text: "% must be followed by two hexadecimal digits"))
                }
                result.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                result.append(byte)
            }
        }
        return .success(result)
    }

    static func text(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            (0x21...0x7e).contains(byte) && byte != UInt8(ascii: "%")
                ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }.joined()
    }
}
