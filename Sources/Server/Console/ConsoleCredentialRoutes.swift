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
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let notice =
            request.uri.queryParameters.get("revoked") != nil
            ? ConsoleText.words(ConsoleSite.language(request))["credentialRevoked"] : nil
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
