import Access
import Hummingbird
import Logging
import MetadataStore

/// Requires a live bearer credential on every route behind it, and accounts for refusals: a missing,
/// unknown or revoked credential (401) is counted by source, route pattern and reason and audited in
/// summaries (anyone can send those, as many as they like); a valid credential refused a route or key
/// (403, thrown by the handlers inside) is an audit entry of its own. Metrics count both.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CustosRequestContext
    let credentials: Credentials
    let refusals: AnonymousRefusals

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let header = request.headers[.authorization]
        guard let header, header.hasPrefix("Bearer "),
            let credential = try await credentials.authenticate(String(header.dropFirst(7)))
        else {
            let reason = header == nil ? "no credential" : "unknown or revoked credential"
            refusals.note(
                .init(
                    source: context.clientAddress,
                    route: "\(request.method) \(context.endpointPath ?? "?")",
                    reason: reason
                )
            )
            ServerMetrics.accessDenied(status: 401)
            throw APIError.unauthorized
        }
        context.credential = credential
        do {
            return try await next(request, context)
        } catch let error as APIError where error.status == .forbidden {
            ServerMetrics.accessDenied(status: 403)
            await audit(context, request, actor: context.actor, outcome: "denied: \(error.message)")
            throw error
        }
    }

    private func audit(_ context: Context, _ request: Request, actor: String, outcome: String) async {
        do {
            try await credentials.recordRefusal(
                actor: actor,
                // The path names the key or CA refused; cut, so that an entry stays small.
                request: "\(request.method) \(request.uri.path.prefix(512))",
                outcome: outcome,
                requestID: context.id
            )
        } catch {
            context.logger.error("cannot record an access refusal in the audit log", metadata: ["error": "\(error)"])
        }
    }
}

extension CustosRequestContext {
    /// Throws 403 unless the credential has one of `roles`.
    func require(_ roles: CredentialRecord.Role...) throws(APIError) {
        guard let credential else { throw APIError(CredentialRecord.refusal(roles, credential: nil)) }
        do { try credential.require(roles) } catch { throw APIError(error) }
    }

    /// Throws 403 when the credential is limited to a tenant other than `tenant`.
    func requireTenant(_ tenant: String) throws(APIError) {
        do { try credential?.require(tenant: tenant) } catch { throw APIError(error) }
    }

    /// The tenant the credential is limited to, if any.
    var tenantLimit: String? { credential?.tenant }

    /// Throws 403 unless the credential is a signer allowed to use the key `name`.
    func requireSigner(for name: String) throws(APIError) {
        guard let credential else { throw APIError(CredentialRecord.refusal([.signer], credential: nil)) }
        do { try credential.requireSigner(for: name) } catch { throw APIError(error) }
    }
}
