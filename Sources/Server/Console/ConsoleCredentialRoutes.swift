import APIModels
import Access
import Console
import Hummingbird
import MetadataStore

/// `/ui/credentials`: every credential (administrators and auditors); administrators create them (the
/// token is shown once) and revoke them, though not the one they are signed in with.
struct ConsoleCredentialRoutes {
    let site: ConsoleSite
    let credentials: Credentials

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("credentials", use: list)
        group.post("credentials", use: create)
        group.post("credentials/:id/revoke", use: revoke)
        group.post("credentials/certificates", use: bindCertificate)
        group.post("credentials/:id/certificates/:sha256/unbind", use: unbindCertificate)
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let parameters = request.uri.queryParameters
        let notice =
            parameters.get("revoked").map { _ in words["credentialRevoked"] ?? "" }
            ?? parameters.get("bound").map { _ in words["certificateBound"] ?? "" }
            ?? parameters.get("unbound").map { _ in words["certificateUnbound"] ?? "" }
        return try await page(request, context, values: notice.map { ["notice": $0] } ?? [:], status: .ok)
    }

    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let form = context.console?.form ?? [:]
        let patterns = (form["patterns"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let roleName = form["role"] ?? ""
        let tenant = form["tenant"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        do {
            let (role, scope) = try CredentialRoutes.scope(
                role: roleName,
                keys: roleName == "vault" || patterns.isEmpty ? nil : patterns,
                namespaces: roleName == "vault" ? patterns : nil
            )
            let (record, token) = try await credentials.create(
                role: role,
                keyPatterns: scope,
                tenant: tenant,
                requester: context.requester
            )
            return try await page(
                request,
                context,
                values: ["created": ["id": record.id, "token": token]],
                status: .created
            )
        } catch {
            let apiError = try ConsoleCertificateActions.refusal(error)
            return try await page(
                request,
                context,
                values: ["error": apiError.message, "form": form, "chosenRole": roleName],
                status: apiError.status
            )
        }
    }

    @Sendable func revoke(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let id = try context.parameters.require("id")
        guard id != context.credential?.id else {
            throw APIError.badRequest("invalid_input", "you cannot revoke the credential you are signed in with")
        }
        guard try await credentials.revoke(id: id, requester: context.requester) else {
            throw APIError(.notFound, "unknown_credential", "no credential has id \"\(id)\"")
        }
        return ConsoleSite.redirect("/ui/credentials?revoked=1")
    }

    /// Binds a pasted certificate to a credential; a refusal shows next to the form.
    @Sendable func bindCertificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let form = context.console?.form ?? [:]
        let id = form["credential"] ?? ""
        do {
            let der = try CredentialRoutes.certificateDER(form["certificate"] ?? "")
            guard try await credentials.bindCertificate(id: id, der: der, requester: context.requester) != nil else {
                throw APIError(.notFound, "unknown_credential", "no credential has id \"\(id)\"")
            }
        } catch {
            let apiError = try ConsoleCertificateActions.refusal(error)
            return try await page(request, context, values: ["bindError": apiError.message], status: apiError.status)
        }
        return ConsoleSite.redirect("/ui/credentials?bound=1")
    }

    @Sendable func unbindCertificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let id = try context.parameters.require("id")
        let hash = try context.parameters.require("sha256")
        guard try await credentials.unbindCertificate(id: id, hash: hash, requester: context.requester) != nil else {
            throw APIError(.notFound, "not_found", "credential \"\(id)\" has no certificate \(hash)")
        }
        return ConsoleSite.redirect("/ui/credentials?unbound=1")
    }

    private func page(
        _ request: Request,
        _ context: CustosRequestContext,
        values extra: [String: Any],
        status: HTTPResponse.Status
    ) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let all = try await credentials.list().sorted { $0.created < $1.created }
        let chosen = extra["chosenRole"] as? String ?? CredentialRecord.Role.signer.rawValue
        var values: [String: Any] = [
            "credentials": all.map { credential in
                [
                    "id": credential.id, "role": credential.role.rawValue,
                    "scope": credential.keyPatterns.isEmpty ? "–" : credential.keyPatterns.joined(separator: ", "),
                    "tenant": credential.tenant ?? "–", "created": ConsoleSite.time(nanoseconds: credential.created),
                    "state": credential.revoked ? words["revoked"] ?? "" : words["active"] ?? "",
                    "revoked": credential.revoked, "self": credential.id == context.credential?.id,
                    "certificates": credential.certificates.map {
                        ["hash": $0, "short": String($0.prefix(16)) + "…", "credential": credential.id]
                    },
                ] as [String: Any]
            },
            "canManage": context.credential?.role == .admin,
            "roles": ["admin", "officer", "auditor", "signer", "vault"].map {
                ["value": $0, "selected": $0 == chosen] as [String: Any]
            },
        ]
        values.merge(extra) { $1 }
        return site.page(
            .credentials,
            request,
            context,
            title: "credentials",
            current: "credentials",
            status: status,
            values: values
        )
    }
}
