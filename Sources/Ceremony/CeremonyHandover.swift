public import HSM
import SwiftASN1
public import X509

/// What a CA key made in a ceremony needs before Custos puts it into service by reference: the signed
/// transcript records a key whose public key is the CA certificate's, and the ceremony ran on the token
/// this Custos uses. The transcript's signature is checked by `SignedTranscript.verify` first.
extension Transcript {
    /// The key to adopt for `certificate` on the token with serial `tokenSerial`, and how the audit log
    /// names the ceremony that made it.
    public func handover(of certificate: Certificate, tokenSerial: String) throws(CeremonyError) -> (
        reference: KeyReference, ceremony: String
    ) {
        var spki = DER.Serializer()
        do { try spki.serialize(certificate.publicKey) } catch {
            throw CeremonyError("the certificate's public key cannot be encoded: \(error)")
        }
        guard let (recorded, reference) = keyReference(forSPKI: spki.serializedBytes) else {
            throw CeremonyError("the transcript records no key whose public key is the certificate's")
        }
        guard token?.serial == tokenSerial else {
            throw CeremonyError(
                "the ceremony ran on token serial \(token?.serial ?? "?"); this Custos uses \(tokenSerial)"
            )
        }
        return (reference, "the \(type) ceremony of \(steps.first?.time ?? "?") (key \(recorded.label))")
    }
}
