import CA
import Codecs
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import X509

extension EnrollmentService {
    /// Metadata keys issued certificates carry.
    public static let profileMetadataKey = "enrollment.profile"
    public static let protocolMetadataKey = "enrollment.protocol"

    /// Authenticates the client, checks the request against the profile, and issues the certificate,
    /// holds the request for approval, or answers a poll for one held earlier. Every outcome, refusals
    /// included, is an audit entry naming the profile, the client and what happened.
    public func enroll(_ request: EnrollmentRequest) async throws(EnrollmentError) -> EnrollmentOutcome {
        try await authenticated(request) { profile, identity throws(EnrollmentError) in
            try await enroll(request, profile: profile, identity: identity)
        }
    }

    /// Runs `body` for a request's profile (which must offer its protocol) and the client it
    /// authenticates; a refusal on the way or from `body` is an audit entry naming the client.
    func authenticated<T>(
        _ request: EnrollmentRequest,
        _ body: (EnrollmentProfile, ClientIdentity) async throws(EnrollmentError) -> T
    ) async throws(EnrollmentError) -> T {
        var client = "anonymous"
        do throws(EnrollmentError) {
            let profile = try await profile(request.profile)
            // Only the console vouches for an officer; no client protocol may claim one.
            guard request.credentials.officer == nil || request.protocolName == .console else {
                throw EnrollmentError(.unauthenticated, "an officer's identity is accepted from the console only")
            }
            guard profile.protocols.contains(request.protocolName) else {
                throw EnrollmentError(
                    .unknownProfile,
                    "profile \(profile.id) does not offer \(request.protocolName.rawValue.uppercased())"
                )
            }
            let identity = try await authenticate(request.credentials, for: profile)
            client = identity.name
            return try await body(profile, identity)
        } catch {
            await auditRefusal(request, client: client, error: error)
            throw error
        }
    }

    private func enroll(_ request: EnrollmentRequest, profile: EnrollmentProfile, identity: ClientIdentity)
        async throws(EnrollmentError) -> EnrollmentOutcome
    {
        let requested = try RequestedCertificate(csr: request.csr, proven: request.proven)
        let keyHash = try requested.keyHash
        // The client's own certificate (when it authenticated with one of this CA's), read once: the
        // subject template, the same-names rule and the renewal rules all look at it.
        var own: (record: CertificateRecord, certificate: Certificate)?
        if case .issuedCertificate(let record) = identity {
            do { own = (record, try Certificate(derEncoded: record.der)) } catch { throw EnrollmentError.from(error) }
        } else if request.operation == .reenroll, let record = request.renewing {
            do { own = (record, try Certificate(derEncoded: record.der)) } catch { throw EnrollmentError.from(error) }
        } else if request.operation == .reenroll {
            throw EnrollmentError(
                .forbidden,
                "re-enrollment needs the certificate being renewed as the TLS client certificate"
            )
        }
        let clientSubject: DistinguishedName? =
            if case .anchoredCertificate(let certificate) = identity { certificate.subject } else {
                own?.certificate.subject
            }
        let subject = try profile.subjectTemplate.map { text throws(EnrollmentError) in
            try SubjectTemplate(text).subject(for: requested.subject, client: clientSubject)
        }
        var renewed: CertificateRecord?
        if let own {
            // A holder of this CA's certificate may get another one for itself, not for other names
            // (RFC 7030 section 4.2.2 for renewal).
            try checkSameNames(
                as: own.certificate,
                record: own.record,
                subject: requested.subject,
                names: requested.alternativeNames,
                certified: subject ?? requested.subject
            )
            if request.operation == .reenroll {
                try checkRenewal(
                    of: own.record,
                    certificate: own.certificate,
                    with: requested.publicKey,
                    profile: profile
                )
                renewed = own.record
            }
        }
        // A request seen before: a poll for a pending one, or the answer to an approved one.
        let earlier: EnrollmentRequestRecord?
        do {
            earlier = try await store.read { reader in
                if let transaction = request.transaction {
                    return try reader.enrollmentRequest(profile: profile.id, transaction: transaction)
                }
                return try reader.enrollmentRequests(profile: profile.id, keyHash: keyHash).last {
                    $0.csr == request.csr
                }
            }
        } catch {
            throw EnrollmentError.from(error)
        }
        if let earlier, earlier.csr == request.csr {
            return try await answer(earlier, profile: profile)
        }
        // A one-time password gets one certificate; renewing that certificate is not a second one.
        if case .oneTimePassword(let secret) = identity, secret.used != nil, renewed == nil {
            throw EnrollmentError(.forbidden, "the one-time password \(secret.id) has been used")
        }
        let actor = "\(request.protocolName.rawValue)/\(profile.id)/\(identity.name)"
        let oneTimeSecret: EnrollmentSecretRecord? =
            if case .oneTimePassword(let secret) = identity, secret.used == nil { secret } else { nil }
        // Held for an officer, or for an upstream CA that could not be reached.
        func held(upstreamError: String? = nil) async throws(EnrollmentError) -> EnrollmentOutcome {
            .pending(
                try await hold(
                    request,
                    subject: requested.subject,
                    keyHash: keyHash,
                    profile: profile,
                    identity: identity,
                    clientSubject: clientSubject,
                    renews: renewed,
                    upstreamError: upstreamError
                )
            )
        }
        if profile.approval == .manual { return try await held() }
        var metadata = [
            Self.profileMetadataKey: profile.id, Self.protocolMetadataKey: request.protocolName.rawValue,
        ]
        if let renewed { metadata[CertificateAuthority.renewedFromMetadataKey] = Hex.encode(renewed.serial) }
        if [.portal, .console].contains(request.protocolName) { metadata[Self.clientMetadataKey] = identity.name }
        do {
            let issued = try await authority.issue(
                ca: profile.ca,
                .init(
                    csr: request.csr,
                    category: profile.category,
                    validityDays: profile.validityDays,
                    metadata: metadata,
                    subject: subject,
                    verified: requested.verified,
                    proven: requested.proven
                ),
                requester: Requester(actor: actor, requestID: request.requestID),
                action: request.operation == .reenroll ? "certificate.reenroll" : "certificate.enroll",
                alsoWrite: { [alsoWrite = request.alsoWrite] txn, certificate in
                    if let oneTimeSecret { try Self.consume(oneTimeSecret, in: txn) }
                    try alsoWrite?(txn, .issued(certificate))
                }
            )
            return .issued(issued.record, chain: issued.chain)
        } catch {
            guard error.code == .upstreamUnavailable, profile.holdsWhenUpstreamUnavailable else {
                throw EnrollmentError.from(error)
            }
            // Held and sent to the upstream CA again in the background; the client polls meanwhile.
            return try await held(upstreamError: error.message)
        }
    }

    /// The profile's renewal rules: its window, and whether the same key may be certified again.
    private func checkRenewal(
        of record: CertificateRecord,
        certificate old: Certificate,
        with publicKey: Certificate.PublicKey,
        profile: EnrollmentProfile
    ) throws(EnrollmentError) {
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        if let window = profile.renewal.windowDays {
            let opens = record.notAfter - Int64(window) * 86_400_000_000_000
            guard now >= opens else {
                let date = Date(timeIntervalSince1970: Double(opens) / 1e9)
                throw EnrollmentError(
                    .forbidden,
                    "rule renewal.windowDays: certificate \(Hex.encode(record.serial)) may be renewed from \(date) on"
                )
            }
        }
        if publicKey == old.publicKey, !profile.renewal.allowSameKey {
            throw EnrollmentError(
                .policyViolation,
                "rule renewal.allowSameKey: profile \(profile.id) needs a new key on renewal"
            )
        }
    }

    /// The subject to be certified (`certified`, after the profile's template) and the request's
    /// alternative names are those of the client's certificate `old`.
    func checkSameNames(
        as old: Certificate,
        record: CertificateRecord,
        subject requested: DistinguishedName,
        names requestedNames: [GeneralName],
        certified: DistinguishedName
    ) throws(EnrollmentError) {
        guard certified == old.subject else {
            throw EnrollmentError(
                .policyViolation,
                "rule renewalSameSubject: the request's subject \"\(DistinguishedNameText.format(requested))\" is "
                    + "not that of the client's certificate \"\(record.subject)\""
            )
        }
        let oldNames = (try? old.extensions.subjectAlternativeNames).flatMap { $0 }
        guard Set(requestedNames.map(\.description)) == Set((oldNames.map(Array.init) ?? []).map(\.description)) else {
            throw EnrollmentError(
                .policyViolation,
                "rule renewalSameSubject: the request's alternative names are not those of the client's certificate"
            )
        }
    }

    /// Stores the request as pending (and uses up its one-time password) with its audit entry.
    private func hold(
        _ request: EnrollmentRequest,
        subject: DistinguishedName,
        keyHash: [UInt8],
        profile: EnrollmentProfile,
        identity: ClientIdentity,
        clientSubject: DistinguishedName?,
        renews: CertificateRecord?,
        upstreamError: String? = nil
    ) async throws(EnrollmentError) -> EnrollmentRequestRecord {
        let record = EnrollmentRequestRecord(
            id: Hex.encode(Self.randomBytes(8)),
            profile: profile.id,
            protocolName: request.protocolName.rawValue,
            client: identity.name,
            clientSubject: clientSubject.map(DistinguishedNameText.format),
            csr: request.csr,
            keyHash: keyHash,
            transaction: request.transaction,
            renews: renews.map { Hex.encode($0.serial) },
            created: Self.now(),
            awaitingUpstream: upstreamError != nil,
            upstreamError: upstreamError
        )
        let oneTimeSecret: EnrollmentSecretRecord? =
            if case .oneTimePassword(let secret) = identity, secret.used == nil { secret } else { nil }
        do {
            try await store.write { [alsoWrite = request.alsoWrite] txn in
                if let oneTimeSecret { try Self.consume(oneTimeSecret, in: txn) }
                try txn.save(record)
                try alsoWrite?(txn, .held(record))
                try txn.appendAudit(
                    AuditEvent(
                        actor: "\(request.protocolName.rawValue)/\(profile.id)/\(identity.name)",
                        action: "enrollment.pending",
                        object: "enrollment-request/\(record.id)",
                        outcome: "pending: \(request.operation.rawValue) for "
                            + "\(DistinguishedNameText.format(subject)) waits for "
                            + (upstreamError.map { "upstream CA \(profile.ca) (\($0))" } ?? "an officer"),
                        requestID: request.requestID
                    )
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
        return record
    }

    /// A request held earlier, found by its protocol transaction id (a SCEP CertPoll); only the holder of
    /// the request's key (`keyHash`, SHA-256 of its SubjectPublicKeyInfo) may poll it.
    func poll(profile: EnrollmentProfile, transaction: String, keyHash: [UInt8]) async throws(EnrollmentError)
        -> EnrollmentOutcome
    {
        let earlier: EnrollmentRequestRecord?
        do {
            earlier = try await store.read { try $0.enrollmentRequest(profile: profile.id, transaction: transaction) }
        } catch {
            throw EnrollmentError.from(error)
        }
        guard let earlier, earlier.keyHash == keyHash else {
            throw EnrollmentError(.unknownRequest, "profile \(profile.id) holds no request \(transaction) for this key")
        }
        return try await answer(earlier, profile: profile)
    }

    /// What became of the held request `id` of `profile` (CMP's poll, which knows the request by its
    /// transaction).
    func outcome(ofHeld id: String, profile: EnrollmentProfile) async throws(EnrollmentError) -> EnrollmentOutcome {
        let held = try await request(id)
        guard held.profile == profile.id else {
            throw EnrollmentError(.unknownRequest, "profile \(profile.id) holds no request \(id)")
        }
        return try await answer(held, profile: profile)
    }

    /// The answer to a request seen before.
    private func answer(_ earlier: EnrollmentRequestRecord, profile: EnrollmentProfile) async throws(EnrollmentError)
        -> EnrollmentOutcome
    {
        switch earlier.state {
        case .pending: return .pending(earlier)
        case .rejected:
            throw EnrollmentError(
                .rejected,
                "request \(earlier.id) was rejected" + (earlier.reason.map { ": \($0)" } ?? "")
            )
        case .issued:
            guard let serial = earlier.serial else {
                throw EnrollmentError(.internalError, "request \(earlier.id) is issued but names no certificate")
            }
            do {
                let record = try await authority.certificate(ca: profile.ca, serial: serial)
                let chain = try await authority.chain(profile.ca).map { try derBytes($0) }
                return .issued(record, chain: chain)
            } catch {
                throw EnrollmentError.from(error)
            }
        }
    }

    /// Marks a one-time password used inside a write; refuses if another request used it meanwhile.
    static func consume(_ secret: EnrollmentSecretRecord, in txn: any MetadataWriting) throws {
        guard var current = try txn.enrollmentSecret(id: secret.id), current.used == nil else {
            throw CAError(.conflict, "the one-time password \(secret.id) has been used")
        }
        current.used = now()
        try txn.save(current)
    }

    /// An audit entry for a refused request (on a best-effort basis: a store failure is the refusal's
    /// cause already).
    func auditRefusal(_ request: EnrollmentRequest, client: String, error: EnrollmentError) async {
        await auditRefusal(
            protocolName: request.protocolName,
            profile: request.profile,
            operation: request.operation,
            client: client,
            reason: "\(error.code): \(error.message)",
            requestID: request.requestID
        )
    }

    /// Records a protocol request refused before it reached `enroll` (a body that is no request, a
    /// wrong media type, an unknown profile). The profile name comes from a URL: it is kept short.
    public func auditRefusal(
        protocolName: EnrollmentProfile.EnrollmentProtocol,
        profile: String,
        operation: EnrollmentRequest.Operation,
        client: String,
        reason: String,
        requestID: String?
    ) async {
        let profile = String(profile.prefix(64))
        let event = AuditEvent(
            actor: "\(protocolName.rawValue)/\(profile)/\(client)",
            action: "enrollment.refused",
            object: "enrollment-profile/\(profile)",
            outcome: "refused: \(operation.rawValue): \(reason.prefix(512))",
            requestID: requestID
        )
        _ = try? await store.write { txn in try txn.appendAudit(event) }
    }
}
