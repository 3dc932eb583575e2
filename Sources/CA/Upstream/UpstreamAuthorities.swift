import Codecs
import CustosX509
import Foundation
public import MetadataStore
public import PKCS11
import Signing
import SwiftASN1
public import X509

/// Upstream CAs: CAs whose key is elsewhere and to which Custos forwards, as their registration
/// authority, what its profiles and policies accept. Certificates they issue are stored and managed as
/// those of Custos's own CAs (search, metadata, reports, revocation); they publish their own CRLs and
/// OCSP answers, so Custos signs neither for them.
extension CertificateAuthority {
    /// What a new upstream CA is to be.
    public struct NewUpstreamCA: Sendable {
        public var id: String
        public var tenant: String?
        /// The protocol spoken to it (one of `UpstreamConnectors.protocols`).
        public var protocolName: String
        /// Its endpoint (for CMP the full URL, `http(s)://host:port/path`).
        public var url: String
        /// The upstream CA's certificate (it signs what Custos asks for) and the certificates above it.
        public var certificate: Certificate
        public var issuerChain: [Certificate]
        /// Trust anchors for the upstream's signed answers; default: the top of the CA's chain.
        public var responseAnchors: [Certificate]
        /// The RA's subject in its CSR; default `CN=Custos RA for <id>`.
        public var raSubject: String?
        /// The RA key's algorithm.
        public var algorithm: KeyAlgorithm
        /// Bound on one exchange, polling included (1 to 600 s); and how often it is sent (1 to 10).
        public var timeoutSeconds: Int
        public var attempts: Int

        public init(
            id: String,
            tenant: String? = nil,
            protocolName: String,
            url: String,
            certificate: Certificate,
            issuerChain: [Certificate] = [],
            responseAnchors: [Certificate] = [],
            raSubject: String? = nil,
            algorithm: KeyAlgorithm = .ecP256,
            timeoutSeconds: Int = 30,
            attempts: Int = 3
        ) {
            self.id = id
            self.tenant = tenant
            self.protocolName = protocolName
            self.url = url
            self.certificate = certificate
            self.issuerChain = issuerChain
            self.responseAnchors = responseAnchors
            self.raSubject = raSubject
            self.algorithm = algorithm
            self.timeoutSeconds = timeoutSeconds
            self.attempts = attempts
        }
    }

    /// Records an upstream CA: makes the RA's key in the HSM and its CSR (signed there), and keeps the CA
    /// pending until the RA's certificate from the upstream PKI is imported (`importCertificate`).
    public func createUpstream(_ request: NewUpstreamCA, requester: Requester) async throws(CAError) -> Authority {
        try Self.validate(id: request.id)
        guard UpstreamConnectors.protocols.contains(request.protocolName) else {
            throw CAError(
                .invalidInput,
                "protocol must be one of \(UpstreamConnectors.protocols.joined(separator: ", ")), "
                    + "not \"\(request.protocolName)\""
            )
        }
        guard let url = URLComponents(string: request.url), url.scheme == "http" || url.scheme == "https",
            url.host?.isEmpty == false, request.url.utf8.count <= 2048
        else { throw CAError(.invalidInput, "url must be an http or https URL, not \"\(request.url.prefix(200))\"") }
        if request.protocolName == "est", url.scheme != "https" {
            throw CAError(.invalidInput, "an EST upstream is reached over https (RFC 7030 section 3.3)")
        }
        guard (1...600).contains(request.timeoutSeconds), (1...10).contains(request.attempts) else {
            throw CAError(.invalidInput, "timeoutSeconds must be 1 to 600 and attempts 1 to 10")
        }
        try Self.checkUsableCACertificate(request.certificate)
        if let parent = request.issuerChain.first {
            guard parent.subject == request.certificate.issuer,
                parent.publicKey.isValidSignature(request.certificate.signature, for: request.certificate)
            else {
                throw CAError(.invalidCertificate, "the first certificate of issuerChain did not sign the CA's")
            }
        }
        let raSubject = try DistinguishedNameText.parse(request.raSubject ?? "CN=Custos RA for \(request.id)")
        guard !raSubject.isEmpty else { throw CAError(.invalidInput, "raSubject must not be empty") }
        guard (try? authority(request.id)) == nil else {
            throw CAError(.caExists, "a CA named \"\(request.id)\" exists already")
        }
        do {
            let anchors =
                request.responseAnchors.isEmpty
                ? [request.issuerChain.last ?? request.certificate] : request.responseAnchors
            let key = try await signing.keys.createServiceKey(
                name: "custos-upstream-\(request.id)",
                algorithm: request.algorithm,
                requester: requester
            )
            let privateKey = try privateKey(key)
            let csr = try await CertificateSigningRequest(
                version: .v1,
                subject: raSubject,
                asyncPrivateKey: .init(privateKey),
                attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: privateKey.defaultSignatureAlgorithm
            )
            let record = CARecord(
                id: request.id,
                tenant: request.tenant ?? configuration.defaultTenant,
                kind: .upstream,
                state: .pending,
                subject: DistinguishedNameText.format(request.certificate.subject),
                parent: nil,
                keyName: nil,
                certificate: try derBytes(request.certificate),
                created: Int64(Date().timeIntervalSince1970 * 1e9),
                csr: try derBytes(csr),
                issuerChain: try request.issuerChain.map { try derBytes($0) },
                upstream: UpstreamLink(
                    protocolName: request.protocolName,
                    url: request.url,
                    raKeyName: key.name,
                    responseAnchors: try anchors.map { try derBytes($0) },
                    timeoutSeconds: request.timeoutSeconds,
                    attempts: request.attempts
                )
            )
            try await store.write { txn in
                guard try txn.record(CARecord.self, key: record.primaryKey) == nil else {
                    throw CAError(.caExists, "a CA named \"\(record.id)\" exists already")
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.create",
                        object: "ca/\(record.id)",
                        outcome: "success: upstream \(record.subject) by \(request.protocolName) at "
                            + "\(request.url.prefix(300)), pending; RA key \(key.name) "
                            + "(\(request.algorithm.rawValue)), CSR made",
                        requestID: requester.requestID
                    )
                )
            }
            return try Authority(record)
        } catch {
            throw CAError.from(error)
        }
    }

    /// Imports the RA's certificate from the upstream PKI: it must certify the RA's HSM key and be valid
    /// now. The upstream CA becomes active.
    func importRACertificate(
        ca id: String,
        certificate: Certificate,
        issuerChain: [Certificate],
        requester: Requester
    ) async throws(CAError) -> Authority {
        let current = try authority(id)
        guard let link = current.record.upstream else { throw CAError(.caNotUsable, "CA \(id) is not upstream") }
        let key: SigningKey
        do { key = try signing.keys.serviceKey(link.raKeyName) } catch { throw CAError.from(error) }
        guard (try? derBytes(certificate.publicKey)) == key.publicKey.derRepresentation else {
            throw CAError(.invalidCertificate, "the certificate does not certify the RA key of upstream CA \(id)")
        }
        let now = Date()
        guard certificate.notValidBefore <= now.addingTimeInterval(300), certificate.notValidAfter > now else {
            throw CAError(.invalidCertificate, "the RA certificate is not valid now")
        }
        if let issuer = issuerChain.first {
            guard issuer.subject == certificate.issuer,
                issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
            else {
                throw CAError(.invalidCertificate, "the first certificate of the chain did not sign the RA certificate")
            }
        }
        do {
            let der = try derBytes(certificate)
            let chain = try issuerChain.map { try derBytes($0) }
            let record = try await store.write { txn in
                guard var record = try txn.ca(id: id), record.upstream != nil else {
                    throw CAError(.unknownCA, "no upstream CA is named \"\(id)\"")
                }
                record.upstream?.raCertificate = der
                record.upstream?.raChain = chain
                record.state = record.state == .retired ? .retired : .active
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.import-certificate",
                        object: "ca/\(id)",
                        outcome: "success: RA certificate issued by \(DistinguishedNameText.format(certificate.issuer))"
                            + ", serial \(Hex.encode(Array(certificate.serialNumber.bytes)))",
                        requestID: requester.requestID
                    )
                )
                return record
            }
            return try Authority(record)
        } catch {
            throw CAError.from(error)
        }
    }

    /// The upstream CA of `authority` with the RA that signs toward it.
    func upstreamTarget(_ authority: Authority) throws(CAError) -> UpstreamTarget {
        guard let link = authority.record.upstream, let raCertificate = link.raCertificate,
            let caCertificate = authority.certificate
        else { throw CAError(.caNotUsable, "CA \(authority.id) waits for its RA certificate") }
        do {
            return UpstreamTarget(
                ca: authority.id,
                link: link,
                caCertificate: caCertificate,
                raKey: try privateKey(try signing.keys.serviceKey(link.raKeyName)),
                raCertificate: raCertificate,
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
        let target = try upstreamTarget(authority)
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
        let answer = try await connector.enroll(
            UpstreamEnrollment(
                target: target,
                subject: subject.name,
                publicKeyInfo: publicKeyInfo,
                alternativeNames: alternativeNames,
                csr: csr,
                notBefore: validity.notBefore,
                notAfter: validity.notAfter,
                requestID: requester.requestID
            )
        )
        let certificate = try checkUpstreamCertificate(answer.certificate, for: subject, from: target)
        // The upstream may change what was asked for; what it certified must pass this CA's policy too.
        let names: [SubjectAlternativeName]
        do {
            names = try (certificate.extensions.subjectAlternativeNames.map(Array.init) ?? []).map { name in
                try SubjectAlternativeName(name)
            }
        } catch {
            throw CAError(.upstreamRefused, "upstream CA \(target.ca) certified names Custos cannot check: \(error)")
        }
        let days = Int((certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) / 86_400).rounded(.up))
        try policy.check(
            keyAlgorithm: try SubjectKeyAlgorithm(certificate.publicKey),
            subject: certificate.subject.flatMap { rdn in
                rdn.map {
                    (type: DistinguishedNameText.name(of: $0.type), value: DistinguishedNameText.text(of: $0.value))
                }
            },
            alternativeNames: names,
            validityDays: max(days, 1)
        )
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
            outcome: "success: \(category.rawValue) for \(record.subject.isEmpty ? "(no subject)" : record.subject)"
                + (record.alternativeNames.isEmpty ? "" : " " + record.alternativeNames.joined(separator: ","))
                + ", issued upstream by \(target.link.protocolName)",
            requestID: requester.requestID
        )
        return SignedCertificate(record: record, certificate: certificate, authority: authority, audit: audit)
    }

    /// What an upstream CA sent back must be an end-entity certificate for the requested key, signed by
    /// the CA certificate Custos knows for it.
    private func checkUpstreamCertificate(_ der: [UInt8], for subject: CertifiedSubject, from target: UpstreamTarget)
        throws(CAError) -> Certificate
    {
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch {
            throw CAError(.upstreamUnavailable, "upstream CA \(target.ca) answered a certificate that does not parse")
        }
        guard certificate.publicKey == subject.publicKey else {
            throw CAError(.upstreamRefused, "upstream CA \(target.ca) returned a certificate for another key")
        }
        guard certificate.issuer == target.caCertificate.subject,
            target.caCertificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        else {
            throw CAError(
                .upstreamRefused,
                "upstream CA \(target.ca) returned a certificate that its known CA certificate did not sign "
                    + "(issuer \(DistinguishedNameText.format(certificate.issuer))); if the upstream CA was renewed, "
                    + "record its new certificate"
            )
        }
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints {
            throw CAError(.upstreamRefused, "upstream CA \(target.ca) returned a CA certificate for an end entity")
        }
        return certificate
    }

    /// Has the upstream CA of `authority` revoke `record`.
    func revokeUpstream(_ record: CertificateRecord, of authority: Authority, reason: CRLReason, requestID: String?)
        async throws(CAError)
    {
        let target = try upstreamTarget(authority)
        try await upstream.connector(target.link.protocolName, ca: authority.id).revoke(
            UpstreamRevocation(
                target: target,
                certificate: record.der,
                reason: Int(reason.rawValue),
                requestID: requestID
            )
        )
    }
}
