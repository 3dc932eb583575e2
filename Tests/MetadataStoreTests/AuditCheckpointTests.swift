import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@Suite struct AuditCheckpointTests {
    let auditKey = P256.Signing.PrivateKey()

    func sign(_ schema: Schema, _ writer: StoreWriter, with key: P256.Signing.PrivateKey) async throws {
        let head = try #require(try schema.auditHead())
        let message = AuditCheckpoint.signedBytes(sequence: head.sequence, headHash: head.hash)
        let checkpoint = AuditCheckpoint(
            sequence: head.sequence,
            headHash: head.hash,
            signer: "test",
            publicKey: Array(key.publicKey.derRepresentation),
            signature: Array(try key.signature(for: message).derRepresentation),
            time: 0
        )
        try await writer.write { try $0.save(checkpoint, in: schema) }
    }

    func trusting(_ key: P256.Signing.PublicKey) -> (AuditCheckpoint) -> Bool {
        { checkpoint in
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: checkpoint.signature) else {
                return false
            }
            return key.isValidSignature(signature, for: checkpoint.signedBytes)
        }
    }

    func appendEntries(_ schema: Schema, _ writer: StoreWriter, _ range: Range<Int>) async throws {
        for index in range {
            try await writer.write {
                try $0.appendAudit(
                    AuditEvent(actor: "ca", action: "certificate.issue", object: "c\(index)", outcome: "success"),
                    in: schema
                )
            }
        }
    }

    @Test func checkpointsVerifyWithTheTrustedKey() async throws {
        let (schema, writer) = try await makeSchema()
        try await appendEntries(schema, writer, 0..<5)
        try await sign(schema, writer, with: auditKey)
        try await appendEntries(schema, writer, 5..<8)
        try await sign(schema, writer, with: auditKey)
        let (result, checkpoints) = try schema.verifyAudit(checkpoints: trusting(auditKey.publicKey))
        #expect(result.firstBroken == nil)
        #expect(result.entries == 8)
        #expect(checkpoints == 2)
    }

    @Test func aRewrittenChainWithRecomputedHashesIsCaughtByTheCheckpoint() async throws {
        let (schema, writer) = try await makeSchema()
        try await appendEntries(schema, writer, 0..<6)
        try await sign(schema, writer, with: auditKey)
        // The attacker changes entry 2 and recomputes every later hash and the head.
        let audit = try schema.environment.database(AuditEntry.table)
        let meta = try schema.environment.database("meta")
        try await writer.write { txn in
            var previous = [UInt8](repeating: 0, count: 32)
            for sequence in UInt64(1)...6 {
                let key = Key().appending(sequence).bytes
                var entry = try AuditEntry.decode(try txn.get(audit, key)!)
                if sequence == 2 { entry.event.object = "nothing happened" }
                entry.previousHash = previous
                try txn.put(audit, key, entry.encoded())
                previous = entry.hash
            }
            var head = Key().appending(UInt64(6))
            head.append(bytes: previous)
            try txn.put(meta, Key().appending("audit-head").bytes, head.bytes)
        }
        #expect(try schema.verifyAudit().firstBroken == nil)  // the hashes alone cannot tell
        let (result, _) = try schema.verifyAudit(checkpoints: trusting(auditKey.publicKey))
        let broken = try #require(result.firstBroken)
        #expect(broken.sequence == 6)
        #expect(broken.reason.contains("does not match the chain"))
    }

    @Test func aCheckpointSignedByAnotherKeyIsRejected() async throws {
        let (schema, writer) = try await makeSchema()
        try await appendEntries(schema, writer, 0..<3)
        try await sign(schema, writer, with: P256.Signing.PrivateKey())  // not the audit key
        let (result, _) = try schema.verifyAudit(checkpoints: trusting(auditKey.publicKey))
        #expect(result.firstBroken?.reason.contains("no valid signature") == true)
    }
}
