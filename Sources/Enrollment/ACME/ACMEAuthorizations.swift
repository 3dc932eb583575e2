import ACME
import Foundation
import MetadataStore

/// Authorizations and challenges (RFC 8555 sections 7.5 and 8): their state, deactivation, and the
/// client's "ready" that starts validation in the background (the answer does not wait for it).
extension ACMEService {
    func authorization(_ request: ACMESignedRequest, id: String, _ context: Context) async throws(ACMEProblem)
        -> ACMEResponse
    {
        let account = try request.signer
        var authorization = try await ownAuthorization(id, account: account)
        if !request.isPostAsGet {
            let payload = try Self.decodeObject(request.payload)
            guard payload["status"] as? String == "deactivated" else {
                throw ACMEProblem(.malformed, "an authorization's status can only be changed to \"deactivated\"")
            }
            guard authorization.status == .pending || authorization.status == .valid else {
                throw ACMEProblem(.malformed, "the authorization is \(authorization.status.rawValue) already")
            }
            authorization.status = .deactivated
            let final = authorization
            let event = AuditEvent(
                actor: context.actor(account.id),
                action: "acme.authorization.deactivate",
                object: "acme-authorization/\(id)",
                outcome: "success: \(final.identifier)",
                requestID: context.requestID
            )
            try await write { txn in
                try txn.save(final)
                try txn.appendAudit(event)
            }
        }
        return Self.json(200, authorizationJSON(authorization, context), headers: [])
    }

    func challenge(_ request: ACMESignedRequest, authorization id: String, type: String, _ context: Context)
        async throws(ACMEProblem) -> ACMEResponse
    {
        let account = try request.signer
        var authorization = try await ownAuthorization(id, account: account)
        guard authorization.challenges.contains(type) else {
            throw ACMEProblem(.malformed, "the authorization has no \(type.prefix(32)) challenge", status: 404)
        }
        let now = EnrollmentService.now()
        if !request.isPostAsGet, authorization.status == .pending, authorization.attempted == nil {
            guard authorization.expires > now else { throw ACMEProblem(.malformed, "the authorization has expired") }
            guard await validator.hasRoom() else {
                throw ACMEProblem(.rateLimited, "too many validations are waiting; try again in a minute")
            }
            let event = AuditEvent(
                actor: context.actor(account.id),
                action: "acme.challenge.start",
                object: "acme-authorization/\(id)",
                outcome: "processing: \(type) for \(authorization.identifier)",
                requestID: context.requestID
            )
            authorization = try await write { txn in
                guard var current = try txn.acmeAuthorization(id: id) else {
                    throw ACMEProblem(.malformed, "the authorization is gone", status: 404)
                }
                // A second "ready" (or one for another challenge) leaves the first attempt running.
                guard current.status == .pending, current.attempted == nil else { return current }
                current.attempted = type
                current.challengeStatus = .processing
                try txn.save(current)
                try txn.appendAudit(event)
                return current
            }
            if authorization.attempted == type && authorization.challengeStatus == .processing {
                let profile = context.profile.id
                let requestID = context.requestID
                Task.detached { [self] in
                    await validate(authorization: id, account: account.id, profile: profile, requestID: requestID)
                }
            }
        }
        var headers: [(name: String, value: String)] = [("Link", "<\(context.urls.authorization(id))>;rel=\"up\"")]
        if authorization.attempted == type && authorization.challengeStatus == .processing {
            headers.append(("Retry-After", "2"))
        }
        return Self.json(200, challengeJSON(authorization, type: type, context), headers: headers)
    }

    /// Runs the validation of an authorization's attempted challenge and stores the outcome.
    func validate(authorization id: String, account accountID: String, profile: String, requestID: String?) async {
        guard let authorization = try? await store.read({ try $0.acmeAuthorization(id: id) }),
            let type = authorization.attempted, authorization.challengeStatus == .processing,
            let account = try? await store.read({ try $0.acmeAccount(id: accountID) }),
            let identifier = try? ACMEIdentifier(
                text: authorization.identifier.replacingOccurrences(
                    of: "dns:",
                    with: authorization.wildcard ? "dns:*." : "dns:"
                )
            )
        else { return }
        let problem = await validator.validate(
            type: type,
            identifier: identifier,
            token: authorization.token,
            thumbprint: account.thumbprint
        )
        let days = await (try? enrollment.profile(profile).acme?.validAuthorizationDays) ?? 30
        let event = AuditEvent(
            actor: "acme/\(profile)",
            action: problem == nil ? "acme.authorization.valid" : "acme.authorization.invalid",
            object: "acme-authorization/\(id)",
            outcome: problem.map { "failure: \(type) for \(authorization.identifier): \($0)" }
                ?? "success: \(type) for \(authorization.identifier)",
            requestID: requestID
        )
        _ = try? await store.write { txn in
            guard var current = try txn.acmeAuthorization(id: id), current.challengeStatus == .processing else {
                return
            }
            let now = EnrollmentService.now()
            if let problem {
                current.status = .invalid
                current.challengeStatus = .invalid
                current.error = problem.jsonText
            } else {
                current.status = .valid
                current.challengeStatus = .valid
                current.validated = now
                current.expires = now + Int64(days) * 86_400_000_000_000
            }
            try txn.save(current)
            try txn.appendAudit(event)
        }
    }

    func ownAuthorization(_ id: String, account: ACMEAccountRecord) async throws(ACMEProblem) -> ACMEAuthorizationRecord
    {
        guard var authorization = try await read({ try $0.acmeAuthorization(id: id) }),
            authorization.account == account.id
        else { throw ACMEProblem(.malformed, "the account has no authorization \(id.prefix(32))", status: 404) }
        if authorization.expires <= EnrollmentService.now(),
            authorization.status == .pending || authorization.status == .valid
        {
            authorization.status = .expired
        }
        return authorization
    }

    func authorizationJSON(_ authorization: ACMEAuthorizationRecord, _ context: Context) -> [String: Any] {
        let identifier = (try? ACMEIdentifier(text: authorization.identifier))?.json ?? [:]
        var object: [String: Any] = [
            "identifier": identifier,
            "status": authorization.status.rawValue,
            "expires": Self.timestamp(authorization.expires),
            "challenges": authorization.challenges.map { challengeJSON(authorization, type: $0, context) },
        ]
        if authorization.wildcard { object["wildcard"] = true }
        return object
    }

    func challengeJSON(_ authorization: ACMEAuthorizationRecord, type: String, _ context: Context) -> [String: Any] {
        let status = authorization.attempted == type ? authorization.challengeStatus.rawValue : "pending"
        var object: [String: Any] = [
            "type": type, "url": context.urls.challenge(authorization.id, type), "token": authorization.token,
            "status": status,
        ]
        if authorization.attempted == type {
            if let validated = authorization.validated { object["validated"] = Self.timestamp(validated) }
            if let error = authorization.error, let problem = try? JSONSerialization.jsonObject(with: Data(error.utf8))
            {
                object["error"] = problem
            }
        }
        return object
    }
}
