import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@Suite struct BackupAndVerifyTests {
    @Test func anOnlineBackupOpensWithTheSameDataAndAnIntactChain() async throws {
        let (schema, writer) = try await makeSchema()
        try await writer.write { txn in
            for index in 0..<50 {
                try txn.save(certificate(UInt8(index), notAfter: Int64(index), batch: "b"), in: schema)
            }
            try txn.appendAudit(
                AuditEvent(actor: "ca", action: "certificate.issue", object: "batch b", outcome: "success"),
                in: schema
            )
        }
        let target = try makeTemporaryDirectory("backup") + "/copy"
        // Writes continue while the copy is taken.
        async let more: Void = {
            for index in 50..<80 {
                try await writer.write {
                    try $0.save(certificate(UInt8(index), notAfter: 0, batch: "late"), in: schema)
                }
            }
        }()
        try schema.environment.backup(to: target)
        try await more
        let copy = try Environment(.init(path: target, databases: Schema.databases(for: CustosStore.recordTypes)))
        let copyWriter = StoreWriter(environment: copy)
        let restored = try await Schema.open(copy, writer: copyWriter, types: CustosStore.recordTypes)
        let count = try copy.read { try $0.count(try $0.database(for: CertificateRecord.self, in: restored)) }
        #expect(count >= 50 && count <= 80)
        let verification = try restored.verifyAudit()
        #expect(verification.entries == 1)
        #expect(verification.firstBroken == nil)
        #expect(try restored.verifyIndexes(CustosStore.recordTypes).problems.isEmpty)
        // A backup never overwrites.
        #expect(throws: StoreError.self) { try schema.environment.backup(to: target) }
    }

    @Test func indexVerificationFindsMissingAndOrphanedEntries() async throws {
        let (schema, writer) = try await makeSchema()
        let record = certificate(1, notAfter: 0, batch: "v")
        try await writer.write { try $0.save(record, in: schema) }
        #expect(try schema.verifyIndexes(CustosStore.recordTypes).problems.isEmpty)
        let index = try schema.environment.database("index")
        let entries = try schema.environment.read { try $0.scan(index, from: []) }
        try await writer.write { txn in
            try txn.delete(index, entries[0].key)
            try txn.put(index, Key().appending("certificates").appending("serial").bytes + [9, 9], [1])
        }
        let result = try schema.verifyIndexes(CustosStore.recordTypes)
        #expect(result.problems.contains { $0.contains("lacks its") }, "\(result.problems)")
        #expect(result.problems.contains { $0.contains("has no record") }, "\(result.problems)")
    }
}
