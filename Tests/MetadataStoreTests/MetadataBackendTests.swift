import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// A service-shaped operation written only against `MetadataBackend`: revoke every certificate of a
/// production batch, with one audit entry per revocation, atomically.
func revokeBatch(_ batch: String, of issuer: String, at time: Int64, in store: any MetadataBackend) async throws -> Int
{
    try await store.write { writer in
        let certificates: [CertificateRecord] = try writer.records(
            CertificateRecord.self,
            index: "metadata",
            value: Key().appending("batch").appending(batch)
        )
        for certificate in certificates where certificate.issuer == issuer {
            try writer.save(
                RevocationRecord(
                    issuer: issuer,
                    serial: certificate.serial,
                    revokedAt: time,
                    reason: 1,
                    invalidityDate: nil
                )
            )
            try writer.appendAudit(
                AuditEvent(actor: "qa", action: "certificate.revoke", object: certificate.subject, outcome: "success")
            )
        }
        return certificates.count
    }
}

@Suite struct MetadataBackendTests {
    @Test func aServiceWrittenAgainstTheProtocolRunsOnLMDB() async throws {
        let (schema, writer) = try await makeSchema()
        let store: any MetadataBackend = LMDBBackend(schema: schema, writer: writer)
        try await store.write { writer in
            for index in 0..<12 {
                try writer.save(certificate(UInt8(index), notAfter: 0, batch: index < 5 ? "QA-17" : "QA-18"))
            }
        }
        #expect(try await revokeBatch("QA-17", of: "ca-1", at: 1000, in: store) == 5)
        let revoked = try await store.read { reader in
            try reader.keys(
                RevocationRecord.self,
                index: "ca-time",
                from: Key().appending("ca-1").appending(Int64(0)),
                to: Key().appending("ca-1").appending(Int64(2000)),
                limit: .max
            )
        }
        #expect(revoked.count == 5)
        let verification = try await store.verifyAudit()
        #expect(verification.entries == 5)
        #expect(verification.firstBroken == nil)
        #expect(try await store.auditHead()?.sequence == 5)
    }
}
