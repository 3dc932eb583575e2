import Foundation
public import HSM
public import MetadataStore
import Signing
public import X509

extension CertificateAuthority {
    /// Takes a CA made in a key ceremony into service: its key stays the object the ceremony made on
    /// this token and is used by reference (label and `CKA_ID`), never copied. The certificate must
    /// be a usable CA certificate for that key; a self-signed one makes a root, any other a sub-CA of
    /// an external parent whose issuing certificates are in `chain`. Audited, naming the ceremony.
    public func adoptAuthority(
        id: String,
        certificate: Certificate,
        chain: [Certificate],
        key reference: KeyReference,
        tenant: String?,
        ceremony: String,
        requester: Requester
    ) async throws(CAError) -> Authority {
        try Self.validate(id: id)
        guard await (try? authority(id)) == nil else { throw CAError(.caExists, "a CA named \"\(id)\" exists already") }
        try Self.checkUsableCACertificate(certificate)
        let selfSigned =
            certificate.subject == certificate.issuer
            && certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        let issuerChain = selfSigned ? [] : Self.issuers(of: certificate, among: chain)
        guard selfSigned || !issuerChain.isEmpty else {
            throw CAError(
                .invalidCertificate,
                "the certificate of the CA that issued \(DistinguishedNameText.format(certificate.subject)) is not in "
                    + "the chain given"
            )
        }
        do {
            // The key on the token must be the certificate's before anything is recorded.
            let onToken = try await signing.keyStore.publicKey(reference)
            let candidate = try HSMPrivateKey(
                reference: reference,
                algorithm: onToken.algorithm,
                publicKey: onToken,
                keyStore: signing.keyStore
            )
            guard candidate.publicKey == certificate.publicKey else {
                throw CAError(.invalidInput, "the key \(reference) on the token is not the certificate's key")
            }
            let key = try await signing.keys.adoptServiceKey(
                name: Self.keyName(id),
                reference: reference,
                requester: requester
            )
            return try await register(
                id: id,
                tenant: tenant,
                certificate: certificate,
                selfSigned: selfSigned,
                issuerChain: issuerChain,
                key: key,
                how: "with its \(onToken.algorithm.rawValue) key \(reference) from \(ceremony), used by reference",
                requester: requester
            )
        } catch {
            throw CAError.from(error)
        }
    }
}
