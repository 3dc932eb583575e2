import Codecs
import Foundation
public import MetadataStore
import Signing
import SwiftASN1
import X509

extension CertificateAuthority {
    /// The metadata key a renewed certificate names its predecessor with (serial in hex).
    public static let renewedFromMetadataKey = "renewed-from"

    /// Renews the end-entity certificate `serial` of `ca`: a new certificate with a new serial for the
    /// same subject and subject alternative names, in the same category, checked against today's
    /// policy (names, key algorithm, validity).
    ///
    /// With `csr` the new certificate certifies the CSR's key (its signature is checked, and its
    /// subject must be the renewed certificate's); without one it certifies the same key again, which
    /// the category's policy must allow (`allowPublicKeyReuse`). Metadata is copied and
    /// `renewed-from` names the old serial. The old certificate is left as it is: valid until it
    /// expires or is revoked. A revoked certificate (on hold included) is not renewed.
    public func renewCertificate(
        ca: String,
        serial: String,
        csr csrDER: [UInt8]?,
        validityDays: Int?,
        requester: Requester
    ) async throws(CAError) -> IssuedCertificate {
        let record = try await certificate(ca: ca, serial: serial)
        guard record.status == .valid else {
            throw CAError(
                .alreadyRevoked,
                "certificate \(serial) of CA \(ca) is revoked; a revoked certificate is not renewed, issue a new one"
            )
        }
        guard let category = CertificateCategory(rawValue: record.category) else {
            throw CAError(
                .invalidInput,
                "certificate \(serial) has no category (imported or a CA certificate); only certificates "
                    + "Custos issued from a CSR are renewed"
            )
        }
        let old: Certificate
        let oldNames: [SubjectAlternativeName]
        do {
            old = try Certificate(derEncoded: record.der)
            oldNames = try (old.extensions.subjectAlternativeNames.map(Array.init) ?? []).map {
                name throws(CAError) in try SubjectAlternativeName(name)
            }
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(.internalError, "the stored certificate \(serial) does not parse: \(error)")
        }

        let publicKey: Certificate.PublicKey
        if let csrDER {
            let csr = try Self.parseCSR(csrDER)
            guard csr.subject == old.subject else {
                throw CAError(
                    .policyViolation,
                    "rule renewalSameSubject: the CSR's subject \"\(DistinguishedNameText.format(csr.subject))\" "
                        + "is not the renewed certificate's \"\(record.subject)\"; to change names, issue a new certificate"
                )
            }
            publicKey = csr.publicKey
        } else {
            publicKey = old.publicKey
        }
        if publicKey == old.publicKey, try await !policy(ca: ca, category: category).allowPublicKeyReuse {
            throw CAError(
                .policyViolation,
                "rule allowPublicKeyReuse: the \(category.rawValue) policy of CA \(ca) requires a new key "
                    + "on renewal; send a CSR for a new key"
            )
        }
        var metadata = record.metadata
        metadata[Self.renewedFromMetadataKey] = Hex.encode(record.serial)
        return try await keep(
            try await sign(
                ca: ca,
                // The CSR, when one came, travels to an upstream CA (EST and ACME carry nothing else).
                subject: CertifiedSubject(
                    name: old.subject,
                    publicKey: publicKey,
                    alternativeNames: oldNames,
                    csr: csrDER
                ),
                category: category,
                validityDays: validityDays,
                metadata: metadata,
                requester: requester,
                action: "certificate.renew"
            )
        )
    }
}
