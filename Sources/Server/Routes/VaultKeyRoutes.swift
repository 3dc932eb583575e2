import APIModels
import Foundation
import HSM
import Hummingbird
import MetadataStore
import PKCS11
import Signing
import Vault

/// `/v1/vault/{namespace}/keys/{name}`: symmetric keys generated in the HSM or imported, stored
/// wrapped under the namespace's KEK, exported wrapped under a recipient's key; and the namespace's
/// RSA transport key (`/v1/vault/{namespace}/transport-key`) that senders wrap imported keys under.
struct VaultKeyRoutes {
    let vault: Vault
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/vault/:namespace/transport-key", use: createTransportKey)
        group.get("v1/vault/:namespace/transport-key", use: transportKey)
        group.get("v1/vault/:namespace/keys", use: listKeys)
        group.post("v1/vault/:namespace/keys/:name", use: createKey)
        group.get("v1/vault/:namespace/keys/:name", use: showKey)
        group.delete("v1/vault/:namespace/keys/:name", use: destroyKey)
        group.put("v1/vault/:namespace/keys/:name/metadata", use: setKeyMetadata)
        group.post("v1/vault/:namespace/keys/:name/export", use: exportKey)
    }

    @Sendable func createTransportKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let namespace = try context.parameters.require("namespace")
        let pem = try await vault.createTransportKey(
            namespace: namespace,
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: TransportKeyView(namespace: namespace, publicKey: pem))
            .makeResponse()
    }

    @Sendable func transportKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context)
        let namespace = try context.parameters.require("namespace")
        guard let pem = try await vault.transportKey(namespace: namespace) else {
            throw APIError(
                .notFound,
                "no_transport_key",
                "namespace \(namespace) has no RSA transport key; an administrator creates it with POST"
            )
        }
        return try JSONResponse(body: TransportKeyView(namespace: namespace, publicKey: pem)).makeResponse()
    }

    @Sendable func listKeys(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context, listing: true)
        let limit = try RouteParameters.limit(request)
        let items = try await vault.listKeys(
            namespace: try context.parameters.require("namespace"),
            after: request.uri.queryParameters.get("cursor"),
            limit: limit
        )
        return try JSONResponse(
            body: VaultKeyPage(
                items: items.map(VaultKeyView.init),
                next: items.count == limit ? items.last?.name : nil
            )
        ).makeResponse()
    }

    @Sendable func createKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context)
        let body = try await JSONBody.decode(CreateVaultKeyBody.self, from: request, limit: maxBodyBytes)
        guard let type = VaultKeyType(body.type) else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown key type \"\(body.type)\"; one of \(VaultKeyType.summary)"
            )
        }
        let material: Vault.KeyMaterial
        switch (body.value, body.wrapped) {
        case (nil, nil):
            guard body.transport == nil, body.oaepHash == nil else {
                throw APIError.badRequest("invalid_input", "transport and oaepHash go with wrapped")
            }
            material = .generate
        case (let value?, nil):
            guard body.transport == nil else {
                throw APIError.badRequest("invalid_input", "transport goes with wrapped, not with value")
            }
            material = .plaintext(try JSONBody.base64(value, field: "value"))
        case (nil, let wrapped?):
            let bytes = try JSONBody.base64(wrapped, field: "wrapped")
            switch body.transport {
            case nil:
                throw APIError.badRequest(
                    "invalid_input",
                    "wrapped needs transport: rsa (the namespace's transport key) or an AES key's name"
                )
            case "rsa":
                material = .wrapped(bytes, under: .namespaceRSA(try Self.oaepHash(body.oaepHash)))
            case let name?:
                material = .wrapped(bytes, under: .vaultKey(name))
            }
        case (.some, .some):
            throw APIError.badRequest("invalid_input", "send value or wrapped, not both")
        }
        var plaintext: [UInt8] = []
        if case .plaintext(let value) = material { plaintext = value }
        // The caller's plaintext is wiped once the HSM has it, whatever the outcome.
        defer { AttributeTemplate.wipe(plaintext) }
        let info = try await vault.createKey(
            namespace: try context.parameters.require("namespace"),
            key: try context.parameters.require("name"),
            type: type,
            material: material,
            metadata: body.metadata ?? [:],
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: VaultKeyView(info)).makeResponse()
    }

    @Sendable func showKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context, listing: true)
        return try await JSONResponse(
            body: VaultKeyView(
                try vault.key(
                    namespace: try context.parameters.require("namespace"),
                    key: try context.parameters.require("name")
                )
            )
        ).makeResponse()
    }

    @Sendable func destroyKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context)
        try await vault.deleteKey(
            namespace: try context.parameters.require("namespace"),
            key: try context.parameters.require("name"),
            requester: context.requester
        )
        return Response(status: .noContent)
    }

    @Sendable func setKeyMetadata(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context)
        let body = try await JSONBody.decode(SecretMetadataBody.self, from: request, limit: maxBodyBytes)
        let info = try await vault.setKeyMetadata(
            namespace: try context.parameters.require("namespace"),
            key: try context.parameters.require("name"),
            body.metadata,
            requester: context.requester
        )
        return try JSONResponse(body: VaultKeyView(info)).makeResponse()
    }

    /// The key wrapped for the caller: under its transport key, or in PKCS#12 under its password.
    @Sendable func exportKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try VaultRoutes.require(context)
        let body = try await JSONBody.decode(ExportVaultKeyBody.self, from: request, limit: maxBodyBytes)
        let transport: Vault.ExportTransport
        var hash: OAEPHash?
        switch (body.rsaPublicKey, body.transportKey, body.plaintext ?? false) {
        case (let pem?, nil, false):
            hash = try Self.oaepHash(body.oaepHash)
            transport = .rsaPublicKey(pem: pem, hash: hash ?? .sha256)
        case (nil, let name?, false): transport = .vaultKey(name)
        case (nil, nil, true): transport = .plaintext
        default:
            throw APIError.badRequest(
                "invalid_input",
                "send exactly one of rsaPublicKey (PEM), transportKey (an AES key's name) or plaintext: true"
            )
        }
        let exported = try await vault.exportKey(
            namespace: try context.parameters.require("namespace"),
            key: try context.parameters.require("name"),
            to: transport,
            requester: context.requester
        )
        defer { AttributeTemplate.wipe(exported.bytes) }
        let encoded = Data(exported.bytes).base64EncodedString()
        let isPlaintext = exported.mechanism == "plaintext"
        return try JSONResponse(
            body: ExportedVaultKey(
                wrapped: isPlaintext ? nil : encoded,
                value: isPlaintext ? encoded : nil,
                mechanism: exported.mechanism,
                oaepHash: hash?.rawValue
            )
        ).makeResponse()
    }

    static func oaepHash(_ text: String?) throws(APIError) -> OAEPHash {
        guard let text else { return .sha256 }
        guard let hash = OAEPHash(rawValue: text) else {
            throw APIError.badRequest("invalid_input", "oaepHash must be sha1, sha256, sha384 or sha512")
        }
        return hash
    }
}
