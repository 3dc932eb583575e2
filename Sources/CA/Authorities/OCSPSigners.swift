import Codecs
import Foundation
public import MetadataStore
import Signing
import X509

/// Delegated OCSP signers (RFC 6960 section 4.2.2.2): for each CA, a key in the HSM and a short-lived
/// certificate issued by the CA's current key with EKU id-kp-OCSPSigning and id-pkix-ocsp-nocheck
/// (category `ocsp-signing`, so the CA's policy for that category applies). The responder signs
/// with it instead of the CA key and includes the certificate in each answer.
///
/// Rotation keeps every answer valid for its whole life: a signer is replaced while it still has
/// at least twice an answer's validity left, so an answer signed by the old signer just before the
/// switch expires before the old certificate does. Old keys are destroyed once their certificates
/// have expired.
extension CertificateAuthority {
    /// What a rotation pass did.
    public struct OCSPSignerRotation: Sendable {
        /// CAs that got a new signer.
        public var rotated: [String] = []
        /// Old signer keys destroyed.
        public var destroyed: [String] = []
        /// CAs whose signer could not be rotated, and why.
        public var failures: [String: String] = [:]
    }

    /// The name of a CA's signer key of `generation`: `custos-ocsp-<ca>-g<n>`.
    static func ocspSignerKeyName(ca: String, generation: Int64) -> String { "custos-ocsp-\(ca)-g\(generation)" }

    /// The CA's current delegated OCSP signer, if it has one.
    public func ocspSigner(_ ca: String) async throws(CAError) -> OCSPSignerRecord? {
        do {
            return try await store.read { try $0.ocspSigner(ca: ca) }
        } catch {
            throw CAError.from(error)
        }
    }

    /// Issues a new delegated OCSP signer for `ca`'s current key: a key of the CA key's algorithm
    /// generated in the HSM, and a certificate valid `validityDays` (cut to end with the CA's). The
    /// previous signer's key is kept until its certificate expires.
    public func rotateOCSPSigner(ca id: String, validityDays: Int, requester: Requester) async throws(CAError)
        -> OCSPSignerRecord
    {
        let authority = try await authority(id)
        try authority.requireUsable()
        guard let caKeyName = authority.keyName, (1...366).contains(validityDays) else {
            throw CAError(.invalidInput, "a delegated OCSP signer is valid 1 to 366 days")
        }
        let previous = try await ocspSigner(id)
        let generation = (previous?.generation ?? 0) + 1
        let name = Self.ocspSignerKeyName(ca: id, generation: generation)
        do {
            let caKey = try await signing.keys.serviceKey(caKeyName)
            // A key left by an attempt that failed after generating it is ours and was never certified.
            let key: SigningKey
            if let leftover = try? await signing.keys.serviceKey(name) {
                key = leftover
            } else {
                key = try await signing.keys.createServiceKey(
                    name: name,
                    algorithm: caKey.algorithm,
                    requester: requester
                )
            }
            let subject = try DistinguishedName { CommonName("\(id) OCSP signer \(generation)") }
            let issued = try await keep(
                try await sign(
                    ca: id,
                    subject: CertifiedSubject(
                        name: subject,
                        publicKey: try privateKey(key).publicKey,
                        alternativeNames: []
                    ),
                    category: .ocspSigning,
                    validityDays: validityDays,
                    metadata: ["ocsp-signer-key": name],
                    requester: requester,
                    action: "ocsp.signer.issue",
                    cutToIssuer: true
                )
            )
            var record = OCSPSignerRecord(
                ca: id,
                generation: generation,
                keyName: name,
                caKeyName: caKeyName,
                certificate: issued.record.der,
                notBefore: issued.record.notBefore / 1_000_000_000,
                notAfter: issued.record.notAfter / 1_000_000_000,
                retired: previous?.retired ?? []
            )
            if let previous { record.retired.append(.init(keyName: previous.keyName, notAfter: previous.notAfter)) }
            let committed = record
            try await store.write { txn in
                // Another process (or request) rotated meanwhile: keep its signer, not two.
                let current = try txn.record(OCSPSignerRecord.self, key: committed.primaryKey)
                guard current?.generation == previous?.generation else {
                    throw CAError(.internalError, "the OCSP signer of CA \(id) was rotated meanwhile; try again")
                }
                try txn.save(committed)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ocsp.signer.rotate",
                        object: "ca/\(id)",
                        outcome: "success: signer \(generation) (key \(name), certificate "
                            + "\(Hex.encode(issued.record.serial))) replaces "
                            + (previous.map { "signer \($0.generation)" } ?? "signing with the CA key"),
                        requestID: requester.requestID
                    )
                )
            }
            return record
        } catch {
            throw CAError.from(error)
        }
    }

    /// One pass of automatic rotation: every usable CA whose signer is missing, was issued by a CA
    /// key that is no longer current, or has less than twice `responseValidity` seconds left gets a
    /// new one; retired signer keys whose certificates have expired are destroyed. A CA whose own
    /// certificate ends within that margin gets no new signer (its key signs its last answers).
    public func rotateDueOCSPSigners(validityDays: Int, responseValidity: Int64, now: Int64) async
        -> OCSPSignerRotation
    {
        var result = OCSPSignerRotation()
        let requester = Requester(actor: "custos")
        let cas: [CARecord]
        do {
            cas = try await store.read { try $0.records(CARecord.self, after: nil, limit: .max) }
        } catch {
            result.failures["*"] = "\(error)"
            return result
        }
        for ca in cas where ca.state == .active && ca.keyName != nil && ca.certificate != nil {
            do {
                let authority = try Authority(ca)
                let current = try await ocspSigner(ca.id)
                let caEnd = Int64(authority.notAfter?.timeIntervalSince1970 ?? 0)
                let due =
                    current.map { $0.caKeyName != ca.keyName || $0.notAfter - now < 2 * responseValidity } ?? true
                if due && caEnd - now >= 2 * responseValidity {
                    _ = try await rotateOCSPSigner(ca: ca.id, validityDays: validityDays, requester: requester)
                    result.rotated.append(ca.id)
                }
                result.destroyed += try await destroyExpiredOCSPSigners(ca: ca.id, now: now, requester: requester)
            } catch {
                result.failures[ca.id] = "\(error)"
            }
        }
        return result
    }

    /// Destroys the keys of `ca`'s earlier signers whose certificates have expired.
    private func destroyExpiredOCSPSigners(ca: String, now: Int64, requester: Requester) async throws -> [String] {
        guard let record = try await ocspSigner(ca) else { return [] }
        let expired = record.retired.filter { $0.notAfter < now }.map(\.keyName)
        guard !expired.isEmpty else { return [] }
        for name in expired {
            // A key that is gone already was destroyed by a pass that failed before updating the record.
            guard await (try? signing.keys.serviceKey(name)) != nil else { continue }
            try await signing.keys.destroyServiceKey(name, requester: requester)
        }
        try await store.write { txn in
            guard var current = try txn.record(OCSPSignerRecord.self, key: record.primaryKey) else { return }
            current.retired.removeAll { expired.contains($0.keyName) }
            try txn.save(current)
        }
        return expired
    }
}
