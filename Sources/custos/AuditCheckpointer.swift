import Foundation
import HSM
import MetadataStore
import PKCS11

/// Signs the audit chain's head with the HSM audit key, and checks existing checkpoints against that
/// key's public half as the HSM reports it.
struct AuditCheckpointer: Sendable {
    static let keyLabel = "custos-audit"
    static let scheme = SignatureScheme.ecdsa(.sha256)

    let keys: KeyStore
    let key: KeyReference
    let publicKey: PublicKey
    /// Whether `prepare` generated the key (first start).
    let generated: Bool

    /// Finds the audit key on the token, creating it on first use.
    static func prepare(_ keys: KeyStore) async throws -> AuditCheckpointer {
        let (reference, generated) = try await keys.findOrGenerate(label: keyLabel, .ecP256)
        return AuditCheckpointer(
            keys: keys,
            key: reference,
            publicKey: try await keys.publicKey(reference),
            generated: generated
        )
    }

    /// Accepts checkpoints signed by this audit key.
    func verifier() -> (AuditCheckpoint) -> Bool {
        let publicKey = self.publicKey
        return { checkpoint in
            publicKey.isValidSignature(
                checkpoint.signature,
                scheme: Self.scheme,
                input: .message(checkpoint.signedBytes)
            )
        }
    }

    /// Signs the current head and stores the checkpoint; nil when the log is empty.
    @discardableResult
    func checkpoint(_ store: any MetadataBackend) async throws -> AuditCheckpoint? {
        guard let head = try await store.auditHead() else { return nil }
        let message = AuditCheckpoint.signedBytes(sequence: head.sequence, headHash: head.hash)
        let raw = try await keys.sign(key, scheme: Self.scheme, input: .message(message))
        let checkpoint = AuditCheckpoint(
            sequence: head.sequence,
            headHash: head.hash,
            signer: Self.keyLabel,
            publicKey: publicKey.derRepresentation,
            signature: try ECDSASignatureFormat.der(fromRaw: raw, algorithm: .ecP256),
            time: Int64(Date().timeIntervalSince1970 * 1e9)
        )
        try await store.write { try $0.save(checkpoint) }
        return checkpoint
    }
}
