public import MetadataStore
public import X509

extension CertificateAuthority {
    /// Issues a certificate for a key Custos generated itself (a device key made in the HSM): no CSR,
    /// so no proof of possession to check; the subject, names and key are checked against the policy
    /// like a CSR's. `alsoWrite` runs in the transaction that stores the certificate.
    public func issue(
        ca id: String,
        generatedKey publicKey: Certificate.PublicKey,
        subject: DistinguishedName,
        alternativeNames: [SubjectAlternativeName],
        category: CertificateCategory,
        validityDays: Int?,
        metadata: [String: String],
        requester: Requester,
        alsoWrite: (@Sendable (any MetadataWriting, CertificateRecord) throws -> Void)? = nil
    ) async throws(CAError) -> IssuedCertificate {
        for name in alternativeNames { _ = try name.generalName }
        return try await keep(
            try await sign(
                ca: id,
                subject: CertifiedSubject(name: subject, publicKey: publicKey, alternativeNames: alternativeNames),
                category: category,
                validityDays: validityDays,
                metadata: metadata,
                requester: requester,
                action: "certificate.keygen"
            ),
            alsoWrite: alsoWrite
        )
    }
}
