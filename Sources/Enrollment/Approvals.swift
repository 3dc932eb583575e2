import CA
import Codecs
import CustosX509
public import MetadataStore
import X509

/// Officers' decisions on requests that profiles with `approval: manual` hold.
extension EnrollmentService {
    /// The request `id`.
    public func request(_ id: String) async throws(EnrollmentError) -> EnrollmentRequestRecord {
        let found: EnrollmentRequestRecord?
        do { found = try await store.read { try $0.enrollmentRequest(id: id) } } catch {
            throw EnrollmentError.from(error)
        }
        guard let found else { throw EnrollmentError(.unknownRequest, "no enrollment request has id \(id)") }
        return found
    }

    /// Requests in `state`, in id order after `cursor`.
    public func requests(state: EnrollmentRequestRecord.State, after cursor: String?, limit: Int)
        async throws(EnrollmentError) -> [EnrollmentRequestRecord]
    {
        do {
            return try await store.read { try $0.enrollmentRequests(state: state, after: cursor, limit: limit) }
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// Issues the certificate a pending request asks for, under its profile as it is now; the request,
    /// the certificate and the approval's audit entry are stored together. The client gets the
    /// certificate when it polls.
    public func approve(_ id: String, requester: Requester) async throws(EnrollmentError) -> EnrollmentRequestRecord {
        let request = try await self.request(id)
        guard request.state == .pending else {
            throw EnrollmentError(.alreadyDecided, "request \(id) is \(request.state.rawValue) already")
        }
        // Four eyes: an officer's own request (made in the console) is approved by someone else.
        guard request.client != requester.actor else {
            throw EnrollmentError(
                .forbidden,
                "request \(id) was made by \(requester.actor); another officer must approve it (four eyes)"
            )
        }
        return try await issue(held: request, requester: requester, action: "enrollment.approve")
    }

    /// Issues the certificate the pending `request` asks for, and marks it issued in the same write with
    /// an audit entry `action` by `requester` (an officer's approval, or a retry toward an upstream CA).
    /// When the profile's upstream CA cannot be reached and the profile holds such requests, the request
    /// is left waiting for it (and the error thrown).
    func issue(held request: EnrollmentRequestRecord, requester: Requester, action: String)
        async throws(EnrollmentError) -> EnrollmentRequestRecord
    {
        let id = request.id
        let profile = try await profile(request.profile)
        let requested = try RequestedCertificate(held: request.csr, protocolName: request.protocolName)
        let subject = try profile.subjectTemplate.map { text throws(EnrollmentError) in
            try SubjectTemplate(text).subject(
                for: requested.subject,
                client: request.clientSubject.flatMap { try? DistinguishedNameText.parse($0) }
            )
        }
        var metadata = [Self.profileMetadataKey: profile.id, Self.protocolMetadataKey: request.protocolName]
        if let renews = request.renews { metadata[CertificateAuthority.renewedFromMetadataKey] = renews }
        // Who asked, for people (portal) and officers (console); devices are named by their certificates.
        if [.portal, .console].map(\EnrollmentProfile.EnrollmentProtocol.rawValue).contains(request.protocolName) {
            metadata[Self.clientMetadataKey] = request.client
        }
        let decided = Self.now()
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
                requester: Requester(
                    actor: "\(request.protocolName)/\(profile.id)/\(request.client)",
                    requestID: requester.requestID
                ),
                action: request.renews == nil ? "certificate.enroll" : "certificate.reenroll",
                alsoWrite: { txn, certificate in
                    guard var current = try txn.enrollmentRequest(id: id), current.state == .pending else {
                        throw CAError(.conflict, "request \(id) was decided meanwhile")
                    }
                    current.state = .issued
                    current.awaitingUpstream = false
                    current.serial = Hex.encode(certificate.serial)
                    current.decidedBy = requester.actor
                    current.decided = decided
                    try txn.save(current)
                    try txn.appendAudit(
                        AuditEvent(
                            actor: requester.actor,
                            action: action,
                            object: "enrollment-request/\(id)",
                            outcome: "success: certificate/\(profile.ca)/\(Hex.encode(certificate.serial)) for "
                                + "\(request.client) under profile \(profile.id)",
                            requestID: requester.requestID
                        )
                    )
                }
            )
            var approved = request
            approved.state = .issued
            approved.serial = Hex.encode(issued.record.serial)
            approved.decidedBy = requester.actor
            approved.decided = decided
            approved.awaitingUpstream = false
            return approved
        } catch {
            let failure = EnrollmentError.from(error)
            if failure.code == .upstreamUnavailable, profile.holdsWhenUpstreamUnavailable {
                await noteUpstreamFailure(of: id, failure.message)
            }
            throw failure.code == .forbidden ? EnrollmentError(.alreadyDecided, failure.message) : failure
        }
    }

    /// Rejects a pending request; the client's next poll is refused with `reason`.
    public func reject(_ id: String, reason: String?, requester: Requester) async throws(EnrollmentError)
        -> EnrollmentRequestRecord
    {
        if let reason, reason.isEmpty || reason.utf8.count > 512 {
            throw EnrollmentError(.invalidInput, "reason has 1 to 512 bytes")
        }
        do {
            return try await store.write { txn in
                guard var request = try txn.enrollmentRequest(id: id) else {
                    throw EnrollmentError(.unknownRequest, "no enrollment request has id \(id)")
                }
                guard request.state == .pending else {
                    throw EnrollmentError(.alreadyDecided, "request \(id) is \(request.state.rawValue) already")
                }
                request.state = .rejected
                request.reason = reason
                request.decidedBy = requester.actor
                request.decided = Self.now()
                try txn.save(request)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "enrollment.reject",
                        object: "enrollment-request/\(id)",
                        outcome: "success: \(request.client) under profile \(request.profile)"
                            + (reason.map { ": \($0)" } ?? ""),
                        requestID: requester.requestID
                    )
                )
                return request
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }
}

extension EnrollmentService {
    /// The subject a held request asks for (RFC 4514): from its CSR, or from the CRMF request CMP stores;
    /// nil when it does not read.
    public static func requestedSubject(of record: EnrollmentRequestRecord) -> String? {
        (try? RequestedCertificate(held: record.csr, protocolName: record.protocolName))
            .map { DistinguishedNameText.format($0.subject) }
    }
}
