import APIModels
import Access
import CA
import Codecs
import Foundation
import HSM
import Hummingbird
import MetadataStore
import PKCS11
import Signing
import SwiftASN1
import X509

/// `/v1/keys`: generate, list, show, enable/disable, request a certificate, attach a certificate chain.
struct KeyRoutes {
    let signing: SigningService
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/keys", use: create)
        group.get("v1/keys", use: list)
        group.get("v1/keys/:name", use: show)
        group.post("v1/keys/:name/disable") { request, context in try await setState(.disabled, request, context) }
        group.post("v1/keys/:name/enable") { request, context in try await setState(.active, request, context) }
        group.post("v1/keys/:name/csr", use: certificateRequest)
        group.put("v1/keys/:name/certificate", use: attachCertificate)
    }

    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(CreateKeyBody.self, from: request, limit: maxBodyBytes)
        guard let algorithm = KeyAlgorithm(rawValue: body.algorithm) else {
            throw APIError.badRequest(
                "unknown_algorithm",
                "unknown algorithm \"\(body.algorithm)\"; one of "
                    + KeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        let key = try await signing.keys.create(
            name: body.name,
            algorithm: algorithm,
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: KeyView(key)).makeResponse()
    }

    /// Keys a page at a time; a signer sees only the keys its patterns name.
    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor, .signer)
        let limit = try Self.limit(request)
        let credential = context.credential
        let visible: (String) -> Bool = { name in credential?.role != .signer || credential!.permits(key: name) }
        let page = await signing.keys.list(
            after: request.uri.queryParameters.get("cursor"),
            limit: limit,
            where: visible
        )
        return try JSONResponse(
            body: KeyList(keys: page.map(KeyView.init), nextCursor: page.count == limit ? page.last?.name : nil)
        ).makeResponse()
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        if context.credential?.role == .signer {
            try context.requireSigner(for: name)
        } else {
            try context.require(.admin, .officer, .auditor)
        }
        return try await JSONResponse(body: KeyView(try signing.keys.key(name))).makeResponse()
    }

    /// A PKCS#10 request signed in the HSM by the key itself (its proof of possession).
    /// Disables or enables a key: a disabled key signs nothing until enabled again.
    @Sendable func setState(_ state: KeyRecord.State, _ request: Request, _ context: CustosRequestContext) async throws
        -> Response
    {
        try context.require(.admin, .officer)
        let name = try context.parameters.require("name")
        let key = try await signing.keys.setState(name, state, requester: context.requester)
        return try JSONResponse(body: KeyView(key)).makeResponse()
    }

    /// A PKCS#10 request signed in the HSM by the key itself (its proof of possession).
    @Sendable func certificateRequest(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let name = try context.parameters.require("name")
        let body = try await JSONBody.decode(KeyCertificateRequestBody.self, from: request, limit: maxBodyBytes)
        let subject = try DistinguishedNameText.parse(body.subject)
        let csr = try await signing.keys.certificateRequest(
            name,
            subject: subject,
            requester: context.requester
        )
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        return try JSONResponse(
            body: KeyCertificateRequestView(
                csr: PEM.encode(serializer.serializedBytes, label: "CERTIFICATE REQUEST")
            )
        ).makeResponse()
    }

    /// The key's certificate chain, leaf first; the leaf must certify the key.
    @Sendable func attachCertificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let name = try context.parameters.require("name")
        let body = try await JSONBody.decode(KeyCertificateBody.self, from: request, limit: maxBodyBytes)
        let chain: [Certificate]
        do {
            chain = try PEMCertificates.parse(body.certificateChain)
        } catch {
            throw APIError.badRequest(
                "invalid_certificate",
                "certificateChain is not a PEM certificate list: \(error)"
            )
        }
        let key = try await signing.keys.attachCertificates(
            name,
            chain,
            requester: context.requester
        )
        return try JSONResponse(body: KeyView(key)).makeResponse()
    }

    /// `?limit=` (1 to 1000, default 100).
    static func limit(_ request: Request) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return 100 }
        guard let limit = Int(text), (1...1000).contains(limit) else {
            throw APIError.badRequest("invalid_input", "limit must be an integer from 1 to 1000")
        }
        return limit
    }
}
