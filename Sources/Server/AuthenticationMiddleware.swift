import Hummingbird
import Logging
import MetadataStore

/// Requires a live bearer credential on every route behind it, and records refusals in the audit log:
/// a missing, unknown or revoked credential (401) here, a forbidden route or key (403) thrown by the
/// handlers inside.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CustosRequestContext
    let credentials: Credentials

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let header = request.headers[.authorization]
        guard let header, header.hasPrefix("Bearer "),
            let credential = try credentials.authenticate(String(header.dropFirst(7)))
        else {
            await audit(
                context,
                request,
                actor: "anonymous",
                outcome: header == nil ? "denied: no credential" : "denied: unknown or revoked credential"
            )
            throw APIError.unauthorized
        }
        context.credential = credential
        do {
            return try await next(request, context)
        } catch let error as APIError where error.status == .forbidden {
            await audit(context, request, actor: context.actor, outcome: "denied: \(error.message)")
            throw error
        }
    }

    private func audit(_ context: Context, _ request: Request, actor: String, outcome: String) async {
        let event = AuditEvent(
            actor: actor,
            action: "api.access",
            object: "\(request.method) \(request.uri.path)",
            outcome: outcome,
            requestID: context.id
        )
        do {
            _ = try await credentials.store.write { txn in try txn.appendAudit(event) }
        } catch {
            context.logger.error("cannot record an access refusal in the audit log", metadata: ["error": "\(error)"])
        }
    }
}

extension CustosRequestContext {
    /// Throws 403 unless the credential has one of `roles`.
    func require(_ roles: CredentialRecord.Role...) throws(APIError) {
        guard let credential, roles.contains(credential.role) else {
            throw APIError.forbidden(
                "this route needs the role \(roles.map(\.rawValue).joined(separator: " or "))"
                    + (credential.map { "; this credential is \($0.role.rawValue)" } ?? "")
            )
        }
    }

    /// Throws 403 when the credential is limited to a tenant other than `tenant`.
    func requireTenant(_ tenant: String) throws(APIError) {
        if let limit = credential?.tenant, limit != tenant {
            throw APIError.forbidden("this credential is limited to tenant \"\(limit)\"")
        }
    }

    /// The tenant the credential is limited to, if any.
    var tenantLimit: String? { credential?.tenant }

    /// Throws 403 unless the credential is a signer allowed to use the key `name`.
    func requireSigner(for name: String) throws(APIError) {
        try require(.signer)
        guard credential?.permits(key: name) == true else {
            throw APIError.forbidden("this credential may not sign with key \"\(name)\"")
        }
    }
}
