import APIModels
import Access
import Codecs
import Foundation
import Hummingbird
import MetadataStore
import Signing
import X509

/// `/v1/credentials` (admin; auditors may list) and `/v1/audit` (auditor, admin).
struct CredentialRoutes {
    let credentials: Credentials
    let store: any MetadataBackend
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/credentials", use: create)
        group.get("v1/credentials", use: list)
        group.delete("v1/credentials/:id", use: revoke)
        group.put("v1/credentials/:id/certificates", use: bindCertificate)
        group.delete("v1/credentials/:id/certificates/:sha256", use: unbindCertificate)
        group.get("v1/audit", use: audit)
    }

    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let body = try await JSONBody.decode(CreateCredentialBody.self, from: request, limit: maxBodyBytes)
        let (role, patterns) = try Self.scope(
            role: body.role,
            keys: body.keys,
            namespaces: body.namespaces,
            actions: body.actions
        )
        let (record, secret) = try await credentials.create(
            role: role,
            keyPatterns: patterns,
            tenant: body.tenant,
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: CredentialView(record, token: secret)).makeResponse()
    }

    /// The role asked for and the patterns it keeps (keys for signers, namespaces for vault clients,
    /// actions for triggers), refused when they do not fit together.
    static func scope(role name: String, keys: [String]?, namespaces: [String]?, actions: [String]? = nil)
        throws(APIError) -> (CredentialRecord.Role, [String])
    {
        guard let role = CredentialRecord.Role(rawValue: name) else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown role \"\(name)\"; one of admin, officer, signer, auditor, vault, trigger"
            )
        }
        if role == .trigger {
            guard let actions, !actions.isEmpty, keys == nil, namespaces == nil else {
                throw APIError.badRequest(
                    "invalid_input",
                    "a trigger credential needs actions (names or prefixes ending in *) and nothing else"
                )
            }
            return (role, actions)
        }
        if actions != nil { throw APIError.badRequest("invalid_input", "actions apply to the trigger role only") }
        if role == .signer && (keys ?? []).isEmpty {
            throw APIError.badRequest(
                "invalid_input",
                "a signer credential needs keys: names or prefixes ending in *"
            )
        }
        if role == .vault && (namespaces ?? []).isEmpty {
            throw APIError.badRequest(
                "invalid_input",
                "a vault credential needs namespaces: names or prefixes ending in *"
            )
        }
        if role != .vault && namespaces != nil {
            throw APIError.badRequest("invalid_input", "namespaces apply to the vault role only")
        }
        return (role, role == .vault ? namespaces ?? [] : keys ?? [])
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        return try await JSONResponse(
            body: CredentialList(credentials: try credentials.list().map { CredentialView($0) })
        )
        .makeResponse()
    }

    @Sendable func revoke(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let id = try context.parameters.require("id")
        guard
            try await credentials.revoke(id: id, requester: context.requester)
        else {
            throw APIError(.notFound, "unknown_credential", "no credential has id \"\(id)\"")
        }
        return Response(status: .noContent)
    }

    /// Binds a TLS client certificate (PEM) to the credential: it then signs in to the web console.
    @Sendable func bindCertificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let id = try context.parameters.require("id")
        let body = try await JSONBody.decode(BindCertificateBody.self, from: request, limit: maxBodyBytes)
        let der = try Self.certificateDER(body.certificate)
        guard let record = try await credentials.bindCertificate(id: id, der: der, requester: context.requester) else {
            throw APIError(.notFound, "unknown_credential", "no credential has id \"\(id)\"")
        }
        return try JSONResponse(body: CredentialView(record)).makeResponse()
    }

    @Sendable func unbindCertificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let id = try context.parameters.require("id")
        let hash = try context.parameters.require("sha256")
        guard
            let record = try await credentials.unbindCertificate(id: id, hash: hash, requester: context.requester)
        else {
            throw APIError(.notFound, "not_found", "credential \"\(id)\" has no certificate \(hash)")
        }
        return try JSONResponse(body: CredentialView(record)).makeResponse()
    }

    /// The DER of one PEM certificate, refused unless it parses as X.509.
    static func certificateDER(_ text: String) throws(APIError) -> [UInt8] {
        guard let block = try? PEM.block(text), block.label == "CERTIFICATE",
            (try? Certificate(derEncoded: block.der)) != nil
        else {
            throw APIError.badRequest("invalid_input", "certificate is not one PEM X.509 certificate")
        }
        return block.der
    }

    /// The audit log, a page at a time from the oldest entry (or after `cursor`, a sequence number).
    @Sendable func audit(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let limit = try RouteParameters.limit(request)
        var after: UInt64?
        if let cursor = request.uri.queryParameters.get("cursor") {
            guard let sequence = UInt64(cursor) else {
                throw APIError.badRequest("invalid_input", "cursor must be an audit sequence number")
            }
            after = sequence
        }
        let page = try await store.read { [after] in try $0.auditEntries(after: after, limit: limit) }
        let views = page.map { entry in
            AuditEntryView(
                sequence: entry.sequence,
                time: Date(timeIntervalSince1970: Double(entry.event.time) / 1e9),
                actor: entry.event.actor,
                action: entry.event.action,
                object: entry.event.object,
                outcome: entry.event.outcome,
                requestId: entry.event.requestID
            )
        }
        return try JSONResponse(
            body: AuditPage(
                entries: views,
                nextCursor: page.count == limit ? page.last.map { String($0.sequence) } : nil
            )
        ).makeResponse()
    }
}
