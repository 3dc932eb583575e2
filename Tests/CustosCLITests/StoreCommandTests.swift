import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@Suite struct StoreCommandTests {
    /// A data directory whose store holds a few certificates and audit entries.
    func populatedDataDirectory() async throws -> String {
        let directory = try makeTemporaryDirectory("data")
        let (schema, writer) = try await CustosStore.open(dataDirectory: directory)
        for index in 0..<5 {
            try await writer.write { txn in
                try txn.save(
                    CertificateRecord(
                        issuer: "ca",
                        serial: [1, UInt8(index)],
                        subject: "CN=d\(index)",
                        notBefore: 0,
                        notAfter: 1,
                        der: [0x30, 0x00],
                        metadata: ["batch": "7"]
                    ),
                    in: schema
                )
                try txn.appendAudit(
                    AuditEvent(
                        actor: index % 2 == 0 ? "officer" : "signer",
                        action: "certificate.issue",
                        object: "d\(index)",
                        outcome: "success"
                    ),
                    in: schema
                )
            }
        }
        writer.shutdown()
        return directory
    }

    @Test func verifyBackupAndShowOnAHealthyStore() async throws {
        let directory = try await populatedDataDirectory()
        let verify = try custos(["store", "verify", "--data-dir", directory])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("5 audit entries checked"))
        #expect(verify.stdout.contains("store is consistent"))
        let audit = try custos(["audit", "verify", "--data-dir", directory])
        #expect(audit.status == 0)
        #expect(audit.stdout.contains("audit chain intact: 5 entries"))
        let show = try custos(["audit", "show", "--data-dir", directory, "--actor", "officer", "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let lines = show.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["actor"] == "officer")
            #expect(object?["action"] == "certificate.issue")
        }
        let backup = try custos(["store", "backup", "--data-dir", directory, "\(directory)/backup"])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(directory)/backup/data.mdb"))
        let again = try custos(["store", "backup", "--data-dir", directory, "\(directory)/backup"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("not empty; refusing to overwrite"))
    }

    @Test func aTamperedAuditLogFailsVerificationNamingTheEntry() async throws {
        let directory = try await populatedDataDirectory()
        do {
            let (schema, writer) = try await CustosStore.open(dataDirectory: directory)
            let audit = try schema.environment.database(AuditEntry.table)
            try await writer.write { txn in try txn.delete(audit, Key().appending(UInt64(2)).bytes) }
            writer.shutdown()
        }
        let audit = try custos(["audit", "verify", "--data-dir", directory])
        #expect(audit.status == 1)
        #expect(audit.stderr.contains("audit chain broken at entry 2"), "\(audit.stderr)")
        let store = try custos(["store", "verify", "--data-dir", directory])
        #expect(store.status == 1)
        #expect(store.stderr.contains("audit entry 2"))
    }

    @Test func aMissingStoreIsAClearError() throws {
        let result = try custos(["store", "verify", "--data-dir", try makeTemporaryDirectory("empty")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no store in"))
    }
}
