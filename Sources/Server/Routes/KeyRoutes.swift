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

    struct CreateBody: Decodable {
        var name: String
        var algorithm: String
    }

    struct CertificateBody: Decodable {
        /// PEM certificates, leaf first.
        var certificateChain: String
    }

    struct CertificateRequestBody: Decodable {
        /// The subject as RFC 4514 text, e.g. `CN=Release signing,O=Example`.
        var subject: String
    }

    struct CertificateRequestView: Encodable {
        /// PEM `CERTIFICATE REQUEST`, signed by the key.
        var csr: String
    }

    struct KeyView: Encodable {
        var name: String
        var algorithm: String
        var state: String
        var created: Date
        var publicKey: String
        var token: String
        var keyId: String
        var certificateChain: [String]?

        init(_ key: SigningKey) {
            name = key.name
            algorithm = key.algorithm.rawValue
            state = key.state.rawValue
            created = key.created
            publicKey = key.publicKey.pemRepresentation
            token = key.token
            keyId = key.reference.idHex
            certificateChain =
                key.certificateChain.isEmpty
                ? nil : key.certificateChain.compactMap { try? $0.serializeAsPEM().pemString }
        }
    }

    struct KeyList: Encodable {
        var keys: [KeyView]
        var nextCursor: String?
    }

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/keys") { request, context in
            try context.require(.admin, .officer)
            let body = try await JSONBody.decode(CreateBody.self, from: request, limit: maxBodyBytes)
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
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(status: .created, body: KeyView(key))
        }
        group.get("v1/keys") { request, context in
            try context.require(.admin, .officer, .auditor, .signer)
            let limit = try Self.limit(request)
            let credential = context.credential
            let visible: (String) -> Bool = { name in credential?.role != .signer || credential!.permits(key: name) }
            let page = signing.keys.list(after: request.uri.queryParameters.get("cursor"), limit: limit, where: visible)
            return JSONResponse(
                body: KeyList(keys: page.map(KeyView.init), nextCursor: page.count == limit ? page.last?.name : nil)
            )
        }
        group.get("v1/keys/:name") { _, context in
            let name = try context.parameters.require("name")
            if context.credential?.role == .signer {
                try context.requireSigner(for: name)
            } else {
                try context.require(.admin, .officer, .auditor)
            }
            return JSONResponse(body: KeyView(try signing.keys.key(name)))
        }
        for (action, state) in [("disable", KeyRecord.State.disabled), ("enable", .active)] {
            group.post("v1/keys/:name/\(action)") { _, context in
                try context.require(.admin, .officer)
                let name = try context.parameters.require("name")
                let key = try await signing.keys.setState(
                    name,
                    state,
                    requester: Requester(actor: context.actor, requestID: context.id)
                )
                return JSONResponse(body: KeyView(key))
            }
        }
        group.post("v1/keys/:name/csr") { request, context in
            try context.require(.admin, .officer)
            let name = try context.parameters.require("name")
            let body = try await JSONBody.decode(CertificateRequestBody.self, from: request, limit: maxBodyBytes)
            let subject = try DistinguishedNameText.parse(body.subject)
            let csr = try await signing.keys.certificateRequest(
                name,
                subject: subject,
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            var serializer = DER.Serializer()
            try serializer.serialize(csr)
            return JSONResponse(
                body: CertificateRequestView(
                    csr: PEM.encode(serializer.serializedBytes, label: "CERTIFICATE REQUEST")
                )
            )
        }
        group.put("v1/keys/:name/certificate") { request, context in
            try context.require(.admin, .officer)
            let name = try context.parameters.require("name")
            let body = try await JSONBody.decode(CertificateBody.self, from: request, limit: maxBodyBytes)
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
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(body: KeyView(key))
        }
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
