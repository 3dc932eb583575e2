import CustosTestSupport
import Foundation
import Testing

@testable import MetadataStore

/// `StoreCopy`: LMDB to PostgreSQL and back gives the same records, index entries, change stamps and
/// audit chain; a non-empty target is refused; a changed copy is found.
@Suite struct StoreCopyTests {
    @Test func lmdbToPostgreSQLAndBackIsTheSameStore() async throws {
        let (lmdb, closeLMDB) = try await BackendKind.lmdb.open()
        defer { closeLMDB() }
        // Records of several tables (some with change stamps), index entries and an audit chain, in
        // more than one batch of the copy.
        for round in 0..<3 {
            try await lmdb.write { txn in
                for serial in 0..<25 {
                    let serial = UInt8(round * 25 + serial)
                    try txn.save(certificate(serial, notAfter: Int64(serial) * 10, batch: round == 1 ? "A" : "B"))
                    try txn.appendAudit(
                        AuditEvent(actor: "test", action: "certificate.issue", object: "\(serial)", outcome: "success")
                    )
                }
                try txn.save(PolicyRecord(id: "p\(round)", ca: "ca-1", category: "device", document: [1], updated: 0))
            }
        }
        let (postgres, closePostgres) = try await BackendKind.postgres.open()
        defer { closePostgres() }
        let there = StoreCopy(from: lmdb, to: postgres, types: CustosStore.recordTypes, batch: 10)
        let summary = try await there.copy()
        #expect(summary.records[CertificateRecord.table] == 75)
        #expect(summary.records[PolicyRecord.table] == 3)
        #expect(summary.auditEntries == 75)
        #expect(summary.indexEntries > 75)
        #expect(try await there.difference() == nil)
        // The copy answers like the source: an index lookup and the policies' change stamp.
        let batchA = try await postgres.read {
            try $0.records(CertificateRecord.self, index: "metadata", value: Key().appending("batch").appending("A"))
        }
        #expect(batchA.map(\.serial) == (25..<50).map { [0x01, UInt8($0)] })
        #expect(try await postgres.read { try $0.changeStamp(PolicyRecord.self) } == 3)
        // The chain goes on in the copy where the source stopped.
        _ = try await postgres.write { txn in
            try txn.appendAudit(AuditEvent(actor: "test", action: "store.migrate", object: "store", outcome: "success"))
        }
        #expect(try await postgres.verifyAudit().entries == 76)
        #expect(try await postgres.verifyAudit().firstBroken == nil)

        // A target that holds anything is refused, and nothing is written to it.
        await #expect(throws: StoreError.self) {
            try await StoreCopy(from: lmdb, to: postgres, types: CustosStore.recordTypes).copy()
        }
        #expect(try await postgres.auditHead()?.sequence == 76)

        // Back into a new LMDB store: the same again.
        let (back, closeBack) = try await BackendKind.lmdb.open()
        defer { closeBack() }
        let home = StoreCopy(from: postgres, to: back, types: CustosStore.recordTypes, batch: 7)
        #expect(try await home.copy().auditEntries == 76)
        #expect(try await home.difference() == nil)

        // A record changed in the copy is a difference.
        try await back.write { txn in
            var changed = try #require(
                try txn.record(
                    PolicyRecord.self,
                    key: PolicyRecord(id: "p1", ca: "ca-1", category: "device", document: [1], updated: 0).primaryKey
                )
            )
            changed.document = [2]
            try txn.save(changed)
        }
        let difference = try await home.difference()
        #expect(difference?.contains(PolicyRecord.table) == true, "\(difference ?? "none")")
    }
}
