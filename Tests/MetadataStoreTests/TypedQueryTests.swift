import Foundation
import MetadataStore
import Testing

/// The typed lookups services use instead of building keys: each finds exactly its records, with
/// neighbours whose keys share a prefix present, and page boundaries crossed.
@Suite struct TypedQueryTests {
    @Test func lookupsFindTheirRecordsAndNotTheirNeighbours() async throws {
        let (schema, writer) = try await makeSchema()
        defer { writer.shutdown() }
        let store = LMDBBackend(schema: schema, writer: writer)
        try await store.write { txn in
            for serial in UInt8(1)...25 {
                // "ca" and "ca-1" share a prefix: neither's records may leak into the other's.
                try txn.save(
                    certificate(serial, issuer: "ca", notAfter: Int64(serial) * 1_000, batch: "b\(serial % 2)")
                )
                try txn.save(certificate(serial, issuer: "ca-1", notAfter: 0, batch: "x"))
                try txn.save(
                    RevocationRecord(
                        issuer: "ca",
                        serial: [0x01, serial],
                        revokedAt: 7,
                        reason: 1,
                        invalidityDate: nil
                    )
                )
            }
            try txn.save(
                RevocationRecord(issuer: "ca-1", serial: [0x01, 1], revokedAt: 7, reason: 1, invalidityDate: nil)
            )
            try txn.save(PolicyRecord(id: "p1", ca: nil, category: "device", document: [1], updated: 0))
            try txn.save(PolicyRecord(id: "p2", ca: "ca", category: "device", document: [2], updated: 0))
        }
        try await store.read { reader in
            #expect(try reader.certificate(issuer: "ca", serial: [0x01, 3])?.notAfter == 3_000)
            #expect(try reader.certificate(issuer: "ca", serial: [0x01, 99]) == nil)
            #expect(try reader.certificateKeys(serial: [0x01, 3]).count == 2)
            #expect(try reader.certificateKeys(metadata: "batch", value: "b1").count == 13)
            #expect(try reader.certificateKeys(notAfterFrom: 2_000, to: 5_000).count == 3)
            #expect(try reader.certificateKeys(status: .revoked).count == 10)
            // Pages of 4 over 25 revocations of "ca", and "ca-1" after them is not one.
            let revocations = try reader.revocations(issuer: "ca", page: 4)
            #expect(revocations.count == 25 && revocations.allSatisfy { $0.issuer == "ca" })
            #expect(try reader.revocations(issuer: "ca-1", page: 4).count == 1)
            #expect(try reader.revocation(issuer: "ca", serial: [0x01, 25])?.reason == 1)
            #expect(try reader.policy(ca: "ca", category: "device")?.id == "p2")
            #expect(try reader.policy(ca: nil, category: "device")?.id == "p1")
            #expect(try reader.policy(ca: "ca-1", category: "device") == nil)
        }
        let first = try #require(try await store.read { try $0.certificateKeys(serial: [0x01, 3]) }.first)
        #expect(Key(cursorText: first.cursorText) == first)
        #expect(Key(cursorText: "zz") == nil && Key(cursorText: "") == nil)
    }
}
