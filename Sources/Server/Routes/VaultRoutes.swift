import APIModels
import Access
import Foundation
import Hummingbird
import MetadataStore
import Signing
import Vault

/// `/v1/vault`: namespaces and their secrets. Values travel as base64 (`value`) or UTF-8 text
/// (`text`) in JSON; they are encrypted in the HSM before anything is stored.
struct VaultRoutes {
    let vault: Vault
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/vault", use: createNamespace)
        group.get("v1/vault", use: listNamespaces)
        group.get("v1/vault/:namespace", use: showNamespace)
        group.post("v1/vault/:namespace/rotate", use: rotate)
        group.get("v1/vault/:namespace/secrets", use: listSecrets)
        group.put("v1/vault/:namespace/secrets/**", use: writeSecret)
        group.get("v1/vault/:namespace/secrets/**", use: readSecret)
        group.get("v1/vault/:namespace/versions/**", use: versions)
        group.delete("v1/vault/:namespace/secrets/**", use: destroySecret)
        group.post("v1/vault/:namespace/archive/**") { request, context in try await setArchived(true, request, context)
        }
        group.post("v1/vault/:namespace/restore/**") { request, context in
            try await setArchived(false, request, context)
        }
        group.put("v1/vault/:namespace/metadata/**", use: setMetadata)
        VaultKeyRoutes(vault: vault, maxBodyBytes: maxBodyBytes).add(to: group)
    }

    @Sendable func createNamespace(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let body = try await JSONBody.decode(CreateNamespaceBody.self, from: request, limit: maxBodyBytes)
        let defaults = Vault.Policy()
        let record = try await vault.createNamespace(
            body.name,
            policy: Vault.Policy(
                maxSecretBytes: body.maxSecretBytes ?? defaults.maxSecretBytes,
                keepVersions: body.keepVersions ?? defaults.keepVersions,
                allowPlaintextImport: body.allowPlaintextImport ?? false,
                allowPlaintextExport: body.allowPlaintextExport ?? false
            ),
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: VaultNamespaceView(record)).makeResponse()
    }

    @Sendable func listNamespaces(_ request: Request, context: CustosRequestContext) async throws -> Response {
        // Vault credentials see the namespaces they may use; administrators and auditors see all.
        try context.require(.admin, .auditor, .vault)
        let credential = context.credential
        let visible = try await vault.namespaces().filter { namespace in
            credential?.role != .vault || credential?.permits(namespace: namespace.name) == true
        }
        return try JSONResponse(body: VaultNamespacePage(items: visible.map { VaultNamespaceView($0) })).makeResponse()
    }

    @Sendable func showNamespace(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context, listing: true)
        let name = try context.parameters.require("namespace")
        return try await JSONResponse(
            body: VaultNamespaceView(try vault.namespace(name), rotation: try vault.rotationProgress(namespace: name))
        ).makeResponse()
    }

    /// Rotates the namespace's key-encryption key; entries are re-wrapped in the background.
    @Sendable func rotate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let name = try context.parameters.require("namespace")
        let record = try await vault.rotateKEK(
            namespace: name,
            requester: context.requester
        )
        return try await JSONResponse(
            status: .accepted,
            body: VaultNamespaceView(record, rotation: try vault.rotationProgress(namespace: name))
        ).makeResponse()
    }

    @Sendable func listSecrets(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context, listing: true)
        let limit = try RouteParameters.limit(request)
        let items = try await vault.listSecrets(
            namespace: try context.parameters.require("namespace"),
            prefix: request.uri.queryParameters.get("prefix") ?? "",
            after: request.uri.queryParameters.get("cursor"),
            limit: limit,
            includeArchived: request.uri.queryParameters.get("archived") == "true"
        )
        return try JSONResponse(
            body: VaultSecretPage(
                items: items.map { VaultSecretView($0) },
                next: items.count == limit ? items.last?.path : nil
            )
        ).makeResponse()
    }

    @Sendable func writeSecret(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context)
        let body = try await JSONBody.decode(WriteSecretBody.self, from: request, limit: maxBodyBytes)
        var value: [UInt8]
        switch (body.value, body.text) {
        case (let encoded?, nil): value = try JSONBody.base64(encoded, field: "value")
        case (nil, let text?): value = Array(text.utf8)
        default:
            throw APIError.badRequest("invalid_input", "give the secret as value (base64) or as text, not both")
        }
        // The plaintext leaves this process's memory as soon as the HSM has encrypted it.
        defer { value.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let info = try await vault.putSecret(
            namespace: try context.parameters.require("namespace"),
            path: Self.path(context),
            value: value,
            metadata: body.metadata,
            requester: context.requester
        )
        return try JSONResponse(body: VaultSecretView(info)).makeResponse()
    }

    @Sendable func readSecret(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context)
        var version: UInt64?
        if let text = request.uri.queryParameters.get("version") {
            guard let number = UInt64(text), number > 0 else {
                throw APIError.badRequest("invalid_input", "version must be a positive integer")
            }
            version = number
        }
        var (info, value) = try await vault.secret(
            namespace: try context.parameters.require("namespace"),
            path: Self.path(context),
            version: version,
            requester: context.requester
        )
        defer { value.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return try JSONResponse(body: VaultSecretView(info, value: value)).makeResponse()
    }

    @Sendable func versions(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context, listing: true)
        let versions = try await vault.secretVersions(
            namespace: try context.parameters.require("namespace"),
            path: Self.path(context)
        )
        return try JSONResponse(body: VaultSecretPage(items: versions.map { VaultSecretView($0) })).makeResponse()
    }

    @Sendable func destroySecret(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context)
        let removed = try await vault.deleteSecret(
            namespace: try context.parameters.require("namespace"),
            path: Self.path(context),
            requester: context.requester
        )
        return try JSONResponse(body: DestroyedVersions(destroyedVersions: removed)).makeResponse()
    }

    /// Archives a secret (reads refused, versions kept) or restores it.
    @Sendable func setArchived(_ archived: Bool, _ request: Request, _ context: CustosRequestContext) async throws
        -> Response
    {
        try Self.require(context)
        let info = try await vault.setArchived(
            namespace: try context.parameters.require("namespace"),
            path: Self.path(context),
            archived,
            requester: context.requester
        )
        return try JSONResponse(body: VaultSecretView(info)).makeResponse()
    }

    @Sendable func setMetadata(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try Self.require(context)
        let body = try await JSONBody.decode(SecretMetadataBody.self, from: request, limit: maxBodyBytes)
        let info = try await vault.setMetadata(
            namespace: try context.parameters.require("namespace"),
            path: Self.path(context),
            body.metadata,
            requester: context.requester
        )
        return try JSONResponse(body: VaultSecretView(info)).makeResponse()
    }

    /// Secrets of the path's namespace are for administrators and vault credentials whose patterns name
    /// it; `listing` (names and versions, no values) also lets auditors in.
    static func require(_ context: CustosRequestContext, listing: Bool = false) throws {
        let namespace = try context.parameters.require("namespace")
        guard let credential = context.credential else { throw APIError.forbidden("this route needs a credential") }
        if listing && credential.role == .auditor { return }
        guard credential.permits(namespace: namespace) else {
            throw APIError.forbidden(
                "this credential (\(credential.role.rawValue)) may not use vault namespace \"\(namespace)\""
            )
        }
    }

    /// The secret path after the route's fixed part.
    static func path(_ context: CustosRequestContext) -> String {
        context.parameters.getCatchAll().joined(separator: "/")
    }
}
