import ArgumentParser
import Crypto
import Foundation
import MetadataStore
import PKCS11

/// `custos audit …`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and read the audit log.",
        subcommands: [VerifyAuditCommand.self, ShowAuditCommand.self]
    )
}

/// `custos audit verify`.
struct VerifyAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the audit chain and report the first broken entry."
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "PEM public key of the audit key, kept apart from the data directory; checks the signed checkpoints.")
    var publicKey: String?

    func run() async throws {
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        guard let publicKey else {
            let result = try await store.verifyAudit()
            if let broken = result.firstBroken {
                throw CLIError("audit chain broken at entry \(broken.sequence): \(broken.reason)")
            }
            let checkpoints = try await store.read {
                try $0.records(AuditCheckpoint.self, after: nil, limit: .max).count
            }
            say("audit chain intact: \(result.entries) entries")
            say("\(checkpoints) signed checkpoints not checked: give --public-key with the audit key's PEM")
            return
        }
        let key: PublicKey
        do {
            key = .p256(
                try P256.Signing.PublicKey(pemRepresentation: try String(contentsOfFile: publicKey, encoding: .utf8))
            )
        } catch {
            throw CLIError("cannot read an EC P-256 public key from \(publicKey): \(error)")
        }
        let (result, checkpoints) = try await store.verifyAudit { checkpoint in
            key.isValidSignature(checkpoint.signature, scheme: .ecdsa(.sha256), input: .message(checkpoint.signedBytes))
        }
        if let broken = result.firstBroken {
            throw CLIError("audit chain broken at entry \(broken.sequence): \(broken.reason)")
        }
        say("audit chain intact: \(result.entries) entries, \(checkpoints) signed checkpoints verified")
    }
}

/// `custos audit show`.
struct ShowAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "List audit entries.")

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "Only entries by this actor.") var actor: String?
    @Option(help: "Only entries with this action.") var action: String?
    @Option(help: "Only entries whose object contains this text.") var object: String?
    @Option(help: "Only entries at or after this time (RFC 3339).") var since: String?
    @Option(help: "Only entries before this time (RFC 3339).") var until: String?
    @Option(help: "At most this many entries.") var limit = 100
    @Flag(help: "One JSON object per line.") var json = false

    func run() async throws {
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        let from = try since.map(Self.parse)
        let to = try until.map(Self.parse)
        var shown = 0
        var after: UInt64?
        scan: while shown < limit {
            let page = try await store.read { [after] in try $0.auditEntries(after: after, limit: 256) }
            for entry in page {
                let event = entry.event
                let matches =
                    (actor == nil || event.actor == actor) && (action == nil || event.action == action)
                    && (object.map { event.object.contains($0) } ?? true) && (from.map { event.time >= $0 } ?? true)
                    && (to.map { event.time < $0 } ?? true)
                if matches {
                    print(json ? try Self.json(entry) : Self.line(entry))
                    shown += 1
                    if shown == limit { break scan }
                }
            }
            guard page.count == 256 else { break }
            after = page.last?.sequence
        }
    }

    private static func parse(_ text: String) throws -> Int64 {
        guard let date = ISO8601DateFormatter().date(from: text) else {
            throw ValidationError("\(text) is not an RFC 3339 time such as 2026-11-22T10:00:00Z")
        }
        return Int64(date.timeIntervalSince1970 * 1e9)
    }

    private static func time(_ nanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }

    private static func line(_ entry: AuditEntry) -> String {
        let event = entry.event
        return
            "\(entry.sequence)\t\(time(event.time))\t\(event.actor)\t\(event.action)\t\(event.object)\t\(event.outcome)"
            + (event.requestID.map { "\t\($0)" } ?? "")
    }

    private static func json(_ entry: AuditEntry) throws -> String {
        let event = entry.event
        var object: [String: String] = [
            "sequence": String(entry.sequence), "time": time(event.time), "actor": event.actor, "action": event.action,
            "object": event.object, "outcome": event.outcome,
            "previousHash": entry.previousHash.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(),
        ]
        if let request = event.requestID { object["requestId"] = request }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
