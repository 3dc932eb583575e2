import Foundation
public import MetadataStore
public import X509

extension KeyRegistry {
    /// A PKCS#10 request (RFC 2986) for the public key of `name` with `subject`, signed in the HSM by
    /// the key itself, so that any CA, Custos' own included, gets the proof of possession it checks.
    /// The request carries no attributes: the CA's policy decides the certificate's extensions. The
    /// key must be active; the request is an audit entry (`key.csr`).
    public func certificateRequest(_ name: String, subject: DistinguishedName, requester: Requester)
        async throws(SigningError) -> CertificateSigningRequest
    {
        let key = try await key(name)
        guard key.state == .active else { throw SigningError(.keyDisabled, "key \"\(name)\" is \(key.state.rawValue)") }
        guard !subject.isEmpty else { throw SigningError(.invalidInput, "subject: give at least one attribute") }
        do {
            let privateKey = try HSMPrivateKey(key, keyStore: keyStore)
            let request = try await CertificateSigningRequest(
                version: .v1,
                subject: subject,
                asyncPrivateKey: .init(privateKey),
                attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: privateKey.defaultSignatureAlgorithm
            )
            try await store.write { txn in
                _ = try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "key.csr",
                        object: "key/\(name)",
                        outcome: "success: \(subject)",
                        requestID: requester.requestID
                    )
                )
            }
            return request
        } catch {
            throw SigningError.from(error)
        }
    }
}
