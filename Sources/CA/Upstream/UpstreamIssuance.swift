import Codecs
import CustosX509
import Foundation
import MetadataStore
import Signing
import X509

/// Issuance and revocation at upstream CAs: the request checked here goes to the CA's connector, and
/// what comes back is checked again (key, issuer, policy) before it is confirmed upstream and stored.
extension CertificateAuthority {
    /// The upstream CA of `authority` with the RA that signs toward it.
    func upstreamTarget(_ authority: Authority) async throws(CAError) -> UpstreamTarget {
        guard let link = authority.record.upstream, let caCertificate = authority.certificate,
            link.raCertificate != nil || link.protocolName == "acme"
        else { throw CAError(.caNotUsable, "CA \(authority.id) waits for its RA certificate") }
        do {
            return await UpstreamTarget(
                ca: authority.id,
                link: link,
                caCertificate: caCertificate,
                raKey: try privateKey(try signing.keys.serviceKey(link.raKeyName)),
                raCertificate: link.raCertificate,
                raChain: link.raChain,
                deadline: Date().addingTimeInterval(Double(link.timeoutSeconds))
            )
        } catch {
            throw CAError.from(error)
        }
    }

    /// Has the upstream CA of `authority` certify `subject` (checked against `policy` already), checks
    /// what it issued, and returns it ready to be stored as this CA's certificate.
    func forward(
        _ subject: CertifiedSubject,
        to authority: Authority,
        policy: IssuancePolicy,
        category: CertificateCategory,
        validity: Validity,
        metadata: [String: String],
        requester: Requester,
        action: String
    ) async throws(CAError) -> SignedCertificate {
        let target = try await upstreamTarget(authority)
        let connector = try upstream.connector(target.link.protocolName, ca: authority.id)
        let publicKeyInfo: [UInt8]
        let alternativeNames: [GeneralName]
        do {
            publicKeyInfo = try derBytes(subject.publicKey)
            alternativeNames = try subject.alternativeNames.map { name throws(CAError) in try name.generalName }
        } catch {
            throw CAError.from(error)
        }
        // The client's own request travels when it asks for exactly what is certified.
        let csr = subject.csr.flatMap { der in
            (try? CertificateSigningRequest(derEncoded: der)).flatMap { $0.subject == subject.name ? der : nil }
        }
        let answer = try await UpstreamMetrics.measure(target, operation: "enroll") { () async throws(CAError) in
            try await connector.enroll(
                UpstreamEnrollment(
                    target: target,
                    subject: subject.name,
                    publicKeyInfo: publicKeyInfo,
                    alternativeNames: alternativeNames,
                    csr: csr,
                    notBefore: validity.notBefore,
                    notAfter: validity.notAfter,
                    requestID: requester.requestID,
                    accept: { der throws(CAError) in
                        _ = try Self.accepted(der, for: subject, from: target, policy: policy)
                    }
                )
            )
        }
        let (certificate, names) = try Self.accepted(answer.certificate, for: subject, from: target, policy: policy)
        let serial = Array(certificate.serialNumber.bytes)
        let record = CertificateRecord(
            issuer: authority.id,
            serial: serial,
            subject: DistinguishedNameText.format(certificate.subject),
            notBefore: Int64(certificate.notValidBefore.timeIntervalSince1970 * 1e9),
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970 * 1e9),
            der: answer.certificate,
            metadata: metadata,
            category: category.rawValue,
            alternativeNames: names.map(\.description)
        )
        let audit = AuditEvent(
            actor: requester.actor,
            action: action,
            object: "certificate/\(authority.id)/\(Hex.encode(serial))",
            outcome: Self.issuedOutcome(record, category: category)
                + ", issued upstream by \(target.link.protocolName)",
            requestID: requester.requestID
        )
        return SignedCertificate(record: record, certificate: certificate, authority: authority, audit: audit)
    }

    /// What an upstream CA sent back, if this CA accepts it: an end-entity certificate for the requested
    /// key, signed by the CA certificate Custos knows for it, whose names and validity pass the policy
    /// (the upstream may change what was asked for). Connectors ask before they confirm it upstream.
    static func accepted(
        _ der: [UInt8],
        for subject: CertifiedSubject,
        from target: UpstreamTarget,
        policy: IssuancePolicy
    ) throws(CAError) -> (Certificate, [SubjectAlternativeName]) {
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch {
            throw CAError(.upstreamUnavailable, "upstream CA \(target.ca) answered a certificate that does not parse")
        }
        let serial = Hex.encode(Array(certificate.serialNumber.bytes))
        func refused(_ why: String) -> CAError {
            CAError(.upstreamRefused, "upstream CA \(target.ca) issued certificate \(serial), which \(why)")
        }
        guard certificate.publicKey == subject.publicKey else { throw refused("certifies another key") }
        guard certificate.issuer == target.caCertificate.subject,
            target.caCertificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        else {
            throw refused(
                "its known CA certificate did not sign (issuer \(DistinguishedNameText.format(certificate.issuer))); if "
                    + "the upstream CA was renewed, record its new certificate"
            )
        }
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints {
            throw refused("is a CA certificate")
        }
        let names: [SubjectAlternativeName]
        do {
            names = try (certificate.extensions.subjectAlternativeNames.map(Array.init) ?? []).map { name in
                try SubjectAlternativeName(name)
            }
        } catch {
            throw refused("certifies names Custos cannot check: \(error)")
        }
        let days = Int((certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) / 86_400).rounded(.up))
        do {
            try policy.check(
                keyAlgorithm: try SubjectKeyAlgorithm(certificate.publicKey),
                subject: Self.policyAttributes(certificate.subject),
                alternativeNames: names,
                validityDays: max(days, 1)
            )
        } catch {
            throw refused("breaks this CA's policy (\(error.message))")
        }
        return (certificate, names)
    }

    /// Has the upstream CA of `authority` revoke `record`.
    func revokeUpstream(_ record: CertificateRecord, of authority: Authority, reason: CRLReason, requestID: String?)
        async throws(CAError)
    {
        let target = try await upstreamTarget(authority)
        let connector = try upstream.connector(target.link.protocolName, ca: authority.id)
        try await UpstreamMetrics.measure(target, operation: "revoke") { () async throws(CAError) in
            try await connector.revoke(
                UpstreamRevocation(
                    target: target,
                    certificate: record.der,
                    reason: Int(reason.rawValue),
                    requestID: requestID
                )
            )
        }
    }
}
