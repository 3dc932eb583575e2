import Codecs
import CustosX509
import Foundation
public import MetadataStore
import Signing
import SwiftASN1
public import X509

extension CertificateAuthority {
    /// A request to issue an end-entity certificate from a PKCS#10 CSR.
    public struct IssueRequest: Sendable {
        /// The CSR in DER (with `proven`: that request's DER, which is not read).
        public var csr: [UInt8]
        public var category: CertificateCategory
        /// Default: the policy's `validityDays`.
        public var validityDays: Int?
        /// Free-form key/value pairs stored and indexed with the certificate.
        public var metadata: [String: String]
        /// The subject to certify instead of the CSR's (an enrollment profile's template); the policy
        /// checks this one.
        public var subject: DistinguishedName?
        /// The CSR parsed and checked already (it must be `csr`); spares issuance a second verification.
        public var verified: VerifiedCSR?
        /// A request of another form whose proof of possession was checked; replaces the CSR.
        public var proven: ProvenRequest?

        public init(
            csr: [UInt8],
            category: CertificateCategory,
            validityDays: Int? = nil,
            metadata: [String: String] = [:],
            subject: DistinguishedName? = nil,
            verified: VerifiedCSR? = nil,
            proven: ProvenRequest? = nil
        ) {
            self.proven = proven
            self.csr = csr
            self.category = category
            self.validityDays = validityDays
            self.metadata = metadata
            self.subject = subject
            self.verified = verified
        }
    }

    /// An issued certificate, its stored record, and the chain above it (issuing CA first).
    public struct IssuedCertificate: Sendable {
        public let record: CertificateRecord
        public let certificate: Certificate
        /// The chain above the certificate in DER, issuing CA first, as stored.
        public let chain: [[UInt8]]
    }

    /// Issues a certificate from a CSR under `ca`'s policy for the request's category. The CSR's
    /// signature is checked (proof of possession) and every policy rule applied before anything is
    /// signed; the certificate is stored with its metadata and an audit entry before it is returned.
    ///
    /// From the CSR Custos takes the subject, the public key and the requested subject alternative
    /// names; other requested extensions are not copied (the policy decides them), and a request for
    /// a CA certificate is refused.
    ///
    /// `alsoWrite` runs in the transaction that stores the certificate (an enrollment marks its one-time
    /// password used there); if it throws, nothing is stored and its error is thrown.
    public func issue(
        ca id: String,
        _ request: IssueRequest,
        requester: Requester,
        action: String = "certificate.issue",
        alsoWrite: (@Sendable (any MetadataWriting, CertificateRecord) throws -> Void)? = nil
    ) async throws(CAError) -> IssuedCertificate {
        try await keep(try await sign(ca: id, request, requester: requester, action: action), alsoWrite: alsoWrite)
    }

    /// The request's CSR checked (signature, requested extensions) and the certificate signed; not stored.
    func sign(
        ca id: String,
        _ request: IssueRequest,
        requester: Requester,
        action: String = "certificate.issue"
    ) async throws(CAError) -> SignedCertificate {
        if let proven = request.proven {
            return try await sign(
                ca: id,
                subject: CertifiedSubject(
                    name: request.subject ?? proven.subject,
                    publicKey: proven.publicKey,
                    alternativeNames: try proven.alternativeNames.map { name throws(CAError) in
                        try SubjectAlternativeName(name)
                    }
                ),
                category: request.category,
                validityDays: request.validityDays,
                metadata: request.metadata,
                requester: requester,
                action: action
            )
        }
        let csr: CertificateSigningRequest
        if let verified = request.verified, verified.der == request.csr {
            csr = verified.request
        } else {
            csr = try Self.parseCSR(request.csr)
        }
        let alternativeNames = try Self.requestedAlternativeNames(csr).map { name throws(CAError) in
            try SubjectAlternativeName(name)
        }
        return try await sign(
            ca: id,
            subject: CertifiedSubject(
                name: request.subject ?? csr.subject,
                publicKey: csr.publicKey,
                alternativeNames: alternativeNames,
                csr: request.csr
            ),
            category: request.category,
            validityDays: request.validityDays,
            metadata: request.metadata,
            requester: requester,
            action: action
        )
    }

    /// What a certificate certifies: from a CSR, or from the certificate a renewal replaces.
    struct CertifiedSubject: Sendable {
        var name: DistinguishedName
        var publicKey: Certificate.PublicKey
        var alternativeNames: [SubjectAlternativeName]
        /// The request the key came from, if any (its bytes spare converting the key back for the SKI).
        var csr: [UInt8]? = nil
    }

    /// Stores `signed` with its audit entry (and what `alsoWrite` writes); returns once it is durable.
    func keep(
        _ signed: SignedCertificate,
        alsoWrite: (@Sendable (any MetadataWriting, CertificateRecord) throws -> Void)? = nil
    ) async throws(CAError) -> IssuedCertificate {
        do {
            try await store.write { txn in
                guard try txn.record(CertificateRecord.self, key: signed.record.primaryKey) == nil else {
                    if signed.authority.record.kind == .upstream {
                        throw CAError(
                            .upstreamRefused,
                            "upstream CA \(signed.authority.id) returned certificate "
                                + "\(Hex.encode(signed.record.serial)), which Custos holds already"
                        )
                    }
                    throw CAError(.internalError, "serial number collision; try again")
                }
                try txn.save(signed.record)
                try txn.appendAudit(signed.audit)
                try alsoWrite?(txn, signed.record)
            }
            return await IssuedCertificate(
                record: signed.record,
                certificate: signed.certificate,
                chain: try chainDER(from: signed.authority)
            )
        } catch {
            throw CAError.from(error)
        }
    }

    /// A certificate signed and not yet stored, with the record and the audit entry that store it.
    struct SignedCertificate: Sendable {
        let record: CertificateRecord
        let certificate: Certificate
        let authority: Authority
        let audit: AuditEvent
    }

    /// Checks `subject` against the policy and signs; stores nothing.
    func sign(
        ca id: String,
        subject: CertifiedSubject,
        category: CertificateCategory,
        validityDays requestedDays: Int?,
        metadata: [String: String],
        requester: Requester,
        action: String,
        cutToIssuer: Bool = false
    ) async throws(CAError) -> SignedCertificate {
        let authority = try await authority(id)
        try authority.requireUsable()
        try Self.validate(metadata: metadata)
        let keyAlgorithm = try SubjectKeyAlgorithm(subject.publicKey)
        let alternativeNames = subject.alternativeNames
        let policy = try await policy(ca: id, category: category)
        let validityDays = requestedDays ?? policy.validityDays
        guard validityDays >= 1 else { throw CAError(.invalidInput, "validityDays must be at least 1") }
        let subjectAttributes = Self.policyAttributes(subject.name)
        try policy.check(
            keyAlgorithm: keyAlgorithm,
            subject: subjectAttributes,
            alternativeNames: alternativeNames,
            validityDays: validityDays
        )
        guard !subject.name.isEmpty || !alternativeNames.isEmpty else {
            throw CAError(.policyViolation, "rule requiredSubjectAttributes: the request has neither subject nor SAN")
        }
        let validity = try Validity(days: validityDays)
            .within(authority, explicit: requestedDays != nil && !cutToIssuer, what: "the certificate")
        if authority.record.kind == .upstream {
            return try await forward(
                subject,
                to: authority,
                policy: policy,
                category: category,
                validity: validity,
                metadata: metadata,
                requester: requester,
                action: action
            )
        }
        guard let issuerCertificate = authority.certificate, let keyName = authority.keyName else {
            throw CAError(.caNotUsable, "CA \(id) cannot sign")
        }
        do {
            let issuerKey = try await privateKey(try signing.keys.serviceKey(keyName))
            var extensions = Certificate.Extensions()
            try extensions.append(Certificate.Extension(BasicConstraints.notCertificateAuthority, critical: true))
            try extensions.append(
                Certificate.Extension(category.keyUsage(for: keyAlgorithm), critical: true)
            )
            let usages =
                try policy.extendedKeyUsage.map { names in try names.map(ExtensionBuilder.extendedKeyUsage) }
                ?? category.extendedKeyUsage
            try extensions.append(Certificate.Extension(try ExtendedKeyUsage(usages), critical: false))
            if !alternativeNames.isEmpty {
                // With an empty subject the SAN extension is critical (RFC 5280 section 4.2.1.6).
                try extensions.append(
                    Certificate.Extension(
                        SubjectAlternativeNames(
                            try alternativeNames.map { name throws(CAError) in try name.generalName }
                        ),
                        critical: subject.name.isEmpty
                    )
                )
            }
            try extensions.append(
                Certificate.Extension(
                    AuthorityKeyIdentifier(keyIdentifier: authority.subjectKeyIdentifier),
                    critical: false
                )
            )
            // RFC 5280 asks for an SKI in every certificate; the Baseline Requirements advise against one
            // in TLS server certificates (7.1.2.7.6).
            if category != .tlsServer {
                try extensions.append(
                    Certificate.Extension(
                        CSRPublicKeyInfo.subjectKeyIdentifier(csr: subject.csr, publicKey: subject.publicKey),
                        critical: false
                    )
                )
            }
            // An OCSP signer's certificate carries id-pkix-ocsp-nocheck: relying parties do not check its
            // revocation, so it points at no CRL and no OCSP responder (RFC 6960 section 4.2.2.2.1).
            if category != .ocspSigning {
                try appendRevocationPointers(for: authority, into: &extensions, policy: policy, category: category)
            }
            if !policy.certificatePolicies.isEmpty {
                let oids = try policy.certificatePolicies.map { oid throws(CAError) in
                    try ExtensionBuilder.objectIdentifier(oid, field: "certificatePolicies")
                }
                try extensions.append(try CertificatePolicies(oids).makeCertificateExtension())
            }
            if category == .ocspSigning { try extensions.append(try OCSPNoCheck().makeCertificateExtension()) }

            let serial = try await serials.next()
            let certificate = try await Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(bytes: serial[...]),
                publicKey: subject.publicKey,
                notValidBefore: validity.notBefore,
                notValidAfter: validity.notAfter,
                issuer: issuerCertificate.subject,
                subject: subject.name,
                signatureAlgorithm: issuerKey.defaultSignatureAlgorithm,
                extensions: extensions,
                issuerAsyncPrivateKey: .init(issuerKey)
            )
            let record = CertificateRecord(
                issuer: id,
                serial: serial,
                subject: DistinguishedNameText.format(subject.name),
                notBefore: Int64(validity.notBefore.timeIntervalSince1970 * 1e9),
                notAfter: Int64(validity.notAfter.timeIntervalSince1970 * 1e9),
                der: try derBytes(certificate),
                metadata: metadata,
                category: category.rawValue,
                alternativeNames: alternativeNames.map(\.description)
            )
            let audit = AuditEvent(
                actor: requester.actor,
                action: action,
                object: "certificate/\(id)/\(Hex.encode(serial))",
                outcome: Self.issuedOutcome(record, category: category),
                requestID: requester.requestID
            )
            return SignedCertificate(record: record, certificate: certificate, authority: authority, audit: audit)
        } catch {
            throw CAError.from(error)
        }
    }

    /// The policy `ca` applies to `category`: its own, else the tenant-wide one, else the built-in one.
    public func policy(ca: String, category: CertificateCategory) async throws(CAError) -> IssuancePolicy {
        do {
            let cacheKey = PolicyKey(ca: ca, category: category)
            let found = try await policies.value(cacheKey, watching: PolicyRecord.self, in: store) { reader in
                // The CA's own policy, else the one for every CA.
                for owner in [ca, nil] {
                    if let record = try reader.policy(ca: owner, category: category.rawValue) { return record }
                }
                return nil
            }
            guard let record = found else { return .default(for: category) }
            return try Self.decodedPolicies.policy(record.document)
        } catch {
            throw CAError(.internalError, "the stored policy for \(ca) \(category.rawValue) cannot be read: \(error)")
        }
    }

    /// Stored policies decoded once (every issuance reads its policy), by their JSON bytes.
    private static let decodedPolicies = DecodedPolicies()

    /// Stores `policy` as `ca`'s policy for `category` (or, with `ca` nil, every CA's that has none).
    public func setPolicy(_ policy: IssuancePolicy, ca: String?, category: CertificateCategory, requester: Requester)
        async throws(CAError)
    {
        try policy.validate()
        if let ca { _ = try await authority(ca) }
        do {
            let record = PolicyRecord(
                id: "\(ca ?? "*")/\(category.rawValue)",
                ca: ca,
                category: category.rawValue,
                document: Array(try JSONEncoder().encode(policy)),
                updated: Int64(Date().timeIntervalSince1970 * 1e9)
            )
            try await store.write { txn in
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "policy.set",
                        object: "policy/\(record.id)",
                        outcome: "success: " + String(decoding: record.document, as: UTF8.self),
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw CAError.from(error)
        }
    }
}
