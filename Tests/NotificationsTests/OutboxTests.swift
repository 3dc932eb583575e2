import APIModels
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@testable import Notifications

/// The outbox hook on a real store: notifications commit with their event or not at all, once per rule
/// and recipient, only for the rule's tenant and never about notification settings themselves.
@Suite struct OutboxTests {
    func store() async throws -> (any MetadataBackend, NotifyingBackend, StoreWriter) {
        let directory = try makeTemporaryDirectory("outbox")
        let (schema, writer) = try await CustosStore.open(dataDirectory: directory)
        let raw = LMDBBackend(schema: schema, writer: writer)
        return (raw, NotifyingBackend(raw, outbox: NotificationOutbox()), writer)
    }

    func rule(_ name: String, tenant: String? = nil, events: [String], recipients: [String]?) throws
        -> NotificationRuleRecord
    {
        let channel = recipients == nil ? "hook" : "relay"
        let body = NotificationRuleBody(
            name: name,
            tenant: tenant,
            channel: channel,
            recipients: recipients,
            events: events
        )
        return NotificationRuleRecord(
            name: name,
            tenant: tenant,
            document: Array(try JSONEncoder().encode(body)),
            updated: 0
        )
    }

    /// A webhook channel `hook` and a mail channel `relay`.
    func channels(_ txn: any MetadataWriting) throws {
        let reference = VaultSecretReference(namespace: "n", path: "p")
        for channel in [
            NotificationChannelBody(
                name: "hook",
                webhook: WebhookChannelBody(url: "https://x.example/h", secret: reference)
            ),
            NotificationChannelBody(name: "relay", mail: MailChannelBody(host: "relay.example", from: "c@example.com")),
        ] {
            try txn.save(
                NotificationChannelRecord(
                    name: channel.name!,
                    tenant: nil,
                    document: Array(try JSONEncoder().encode(channel)),
                    updated: 0
                )
            )
        }
    }

    func ca(_ id: String, tenant: String) -> CARecord {
        CARecord(
            id: id,
            tenant: tenant,
            kind: .root,
            state: .active,
            subject: "CN=\(id)",
            parent: nil,
            keyName: id,
            certificate: nil,
            created: 0
        )
    }

    @Test func notificationsCommitWithTheirEventOrNotAtAll() async throws {
        let (raw, store, writer) = try await store()
        defer { writer.shutdown() }
        try await raw.write { txn in
            try channels(txn)
            try txn.save(
                try rule("revocations", events: ["certificate.revoke"], recipients: ["a@example.com", "b@example.com"])
            )
            try txn.save(try rule("acme-only", tenant: "acme", events: ["certificate.revoke"], recipients: nil))
            try txn.save(ca("line", tenant: "default"))
            try txn.save(ca("acme-ca", tenant: "acme"))
        }
        func revoke(_ object: String, actor: String = "credential/x", fail: Bool = false) async throws {
            _ = try await store.write { txn in
                try txn.appendAudit(
                    AuditEvent(actor: actor, action: "certificate.revoke", object: object, outcome: "success")
                )
                if fail { throw StoreError(code: .invalidData, reason: "rolled back on purpose") }
            }
        }
        func outbox() async throws -> [NotificationRecord] {
            try await raw.read { try $0.records(NotificationRecord.self, after: nil, limit: .max) }
        }
        try await revoke("certificate/line/01")
        var records = try await outbox()
        #expect(Set(records.map(\.recipient)) == ["a@example.com", "b@example.com"] && records.count == 2)
        #expect(
            records.allSatisfy { $0.rule == "revocations" && $0.state == .pending && $0.eventKey.hasPrefix("audit/") }
        )
        // The acme rule sees only its tenant's CA.
        try await revoke("certificate/acme-ca/02")
        records = try await outbox()
        #expect(records.count == 5 && records.filter { $0.rule == "acme-only" }.map(\.recipient) == ["webhook"])
        // A rolled-back event leaves neither its audit entry nor its notifications.
        await #expect(throws: StoreError.self) { try await revoke("certificate/line/03", fail: true) }
        #expect(try await outbox().count == 5)
        // The notifier's own entries and other actions notify nobody.
        try await revoke("certificate/line/04", actor: NotificationEvents.quietActor)
        _ = try await store.write { txn in
            try txn.appendAudit(AuditEvent(actor: "x", action: "ca.create", object: "ca/line", outcome: "success"))
        }
        #expect(try await outbox().count == 5)
        // A disabled rule stops at once (the rules are read again when their table changes).
        try await raw.write { txn in
            var disabled = NotificationRuleBody(
                channel: "relay",
                enabled: false,
                recipients: ["a@example.com"],
                events: ["certificate.revoke"]
            )
            disabled.name = "revocations"
            try txn.save(
                NotificationRuleRecord(
                    name: "revocations",
                    tenant: nil,
                    document: Array(try JSONEncoder().encode(disabled)),
                    updated: 1
                )
            )
        }
        try await revoke("certificate/line/05")
        #expect(try await outbox().count == 5)
    }

    @Test func backoffDoublesUpToTheLongestWait() {
        let settings = DeliverySettings(firstRetry: .seconds(30), longestWait: .seconds(300), attempts: 10)
        #expect((1...6).map { settings.wait(after: $0) } == [30, 60, 120, 240, 300, 300].map { Duration.seconds($0) })
    }

    @Test func theWebhookSignatureMatchesPythonsHMAC() async throws {
        let body = Array(#"{"event":"certificate.revoke","id":"0a"}"#.utf8)
        let secret = Array("s3cret-\u{0}-bytes".utf8)
        let header = WebhookSender.signature(body: body, timestamp: 1_800_000_000, secret: secret)
        let script =
            "import hmac,hashlib,sys; print(hmac.new(bytes.fromhex(sys.argv[1]), b'1800000000.' + bytes.fromhex(sys.argv[2]), hashlib.sha256).hexdigest())"
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        let python = try await runClient("/usr/bin/python3", ["-c", script, hex(secret), hex(body)])
        #expect(header == "t=1800000000,v1=" + python.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
