import CustosTestSupport
import Foundation
import MetadataStore
import Testing

struct Abort: Error {}

@Suite struct AuditLogTests {
    func event(_ index: Int) -> AuditEvent {
        AuditEvent(
            actor: index % 2 == 0 ? "officer" : "signer",
            action: "key.sign",
            object: "key/line-\(index)",
            outcome: "success",
            requestID: "req-\(index)"
        )
    }

    static func key(_ sequence: UInt64) -> [UInt8] { Key().appending(sequence).bytes }

    @Test func entriesChainAndVerify() async throws {
        let (schema, writer) = try await makeSchema()
        for index in 0..<10 { try await writer.write { try $0.appendAudit(event(index), in: schema) } }
        let verification = try schema.verifyAudit()
        #expect(verification.entries == 10)
        #expect(verification.firstBroken == nil)
        let entries = try schema.environment.read { try $0.records(AuditEntry.self, limit: 100, in: schema) }
        #expect(entries.map(\.sequence) == Array(1...10))
        #expect(entries[0].previousHash == [UInt8](repeating: 0, count: 32))
        for (earlier, later) in zip(entries, entries.dropFirst()) { #expect(later.previousHash == earlier.hash) }
        let byOfficer = try schema.environment.read {
            try $0.records(AuditEntry.self, index: "actor", value: Key().appending("officer"), in: schema)
        }
        #expect(byOfficer.count == 5)
    }

    @Test func anEventAndItsChangeCommitTogetherOrNotAtAll() async throws {
        let (schema, writer) = try await makeSchema()
        let record = certificate(3, notAfter: 0, batch: "a")
        await #expect(throws: Abort.self) {
            try await writer.write { txn in
                try txn.save(record, in: schema)
                try txn.appendAudit(
                    AuditEvent(actor: "ca", action: "certificate.issue", object: "3", outcome: "success"),
                    in: schema
                )
                throw Abort()
            }
        }
        let stored = try schema.environment.read {
            try $0.record(CertificateRecord.self, key: record.primaryKey, in: schema)
        }
        #expect(stored == nil)
        #expect(try schema.verifyAudit().entries == 0)
        // Concurrent writers each append in their own transaction; the chain stays whole.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { _ = try await writer.write { try $0.appendAudit(self.event(index), in: schema) } }
            }
            try await group.waitForAll()
        }
        let verification = try schema.verifyAudit()
        #expect(verification.entries == 50)
        #expect(verification.firstBroken == nil)
    }

    /// Tampering straight in LMDB (as someone with file access would) is found and named.
    @Test(arguments: ["change", "delete", "reorder"])
    func tamperingIsDetected(_ kind: String) async throws {
        let (schema, writer) = try await makeSchema()
        for index in 0..<6 { try await writer.write { try $0.appendAudit(event(index), in: schema) } }
        let audit = try schema.environment.database(AuditEntry.table)
        try await writer.write { txn in
            switch kind {
            case "change":
                var bytes = try txn.get(audit, Self.key(3))!
                bytes[bytes.count - 40] ^= 0x01  // one byte inside the entry
                try txn.put(audit, Self.key(3), bytes)
            case "delete":
                try txn.delete(audit, Self.key(3))
            default:
                let third = try txn.get(audit, Self.key(3))!
                let fourth = try txn.get(audit, Self.key(4))!
                try txn.put(audit, Self.key(3), fourth)
                try txn.put(audit, Self.key(4), third)
            }
        }
        let verification = try schema.verifyAudit()
        let broken = try #require(verification.firstBroken)
        switch kind {
        case "change": #expect(broken.sequence == 4 || broken.sequence == 3, "\(broken)")
        case "delete": #expect(broken.sequence == 3, "\(broken)")
        default: #expect(broken.sequence == 3, "\(broken)")
        }
        #expect(!broken.reason.isEmpty)
    }
}
