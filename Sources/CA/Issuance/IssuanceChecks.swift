import Foundation
import MetadataStore
public import X509

/// The checks every issuance starts with: a PKCS#10 request's signature, and the metadata stored with
/// a certificate.
extension CertificateAuthority {
    /// A subject's attributes as the policy's rules name them.
    static func policyAttributes(_ name: DistinguishedName) -> [(type: String, value: String)] {
        name.flatMap { rdn in
            rdn.map { (type: DistinguishedNameText.name(of: $0.type), value: DistinguishedNameText.text(of: $0.value)) }
        }
    }

    /// The audit outcome of an issued certificate: its category, subject and names.
    static func issuedOutcome(_ record: CertificateRecord, category: CertificateCategory) -> String {
        "success: \(category.rawValue) for \(record.subject.isEmpty ? "(no subject)" : record.subject)"
            + (record.alternativeNames.isEmpty ? "" : " " + record.alternativeNames.joined(separator: ","))
    }

    /// The first certificate of `chain`, if any, must have signed `certificate`.
    static func checkSignedByFirst(of chain: [Certificate], _ certificate: Certificate, what: String) throws(CAError) {
        guard let issuer = chain.first else { return }
        guard issuer.subject == certificate.issuer,
            issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
        else { throw CAError(.invalidCertificate, "the first certificate of the chain did not sign \(what)") }
    }

    /// Parses a PKCS#10 request (DER) and checks its signature (proof of possession); an RSA key under
    /// 2048 bits is a policy refusal. Every enrollment route starts here.
    public static func parseCSR(_ der: [UInt8]) throws(CAError) -> CertificateSigningRequest {
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(derEncoded: der) } catch {
            if let bits = SubjectKeyAlgorithm.rsaModulusBits(inCSR: der), bits < 2048 {
                throw CAError(
                    .policyViolation,
                    "rule allowedKeyAlgorithms: rsa-\(bits) keys are not allowed; RSA keys need at least 2048 bits"
                )
            }
            throw CAError(.invalidCSR, "the CSR is not a PKCS#10 request in DER or PEM: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw CAError(
                .invalidCSR,
                "the CSR's signature does not verify with its public key (no proof of possession)"
            )
        }
        return csr
    }

    /// Metadata: at most 64 pairs; keys 1 to 64 of `A-Z a-z 0-9 . _ -`; values up to 1024 bytes.
    static func validate(metadata: [String: String]) throws(CAError) {
        guard metadata.count <= 64 else { throw CAError(.invalidInput, "at most 64 metadata pairs") }
        for (key, value) in metadata {
            let valid =
                (1...64).contains(key.utf8.count)
                && key.utf8.allSatisfy { byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                        || byte == 0x2E || byte == 0x5F || byte == 0x2D
                }
            guard valid else {
                throw CAError(.invalidInput, "metadata key \"\(key)\" must have 1 to 64 of A-Z a-z 0-9 . _ -")
            }
            guard value.utf8.count <= 1024 else {
                throw CAError(.invalidInput, "metadata value of \(key) is longer than 1024 bytes")
            }
        }
    }
}
