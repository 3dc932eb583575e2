import APIModels
import CA
import Codecs
import Hummingbird
import PKCS11

/// `POST /v1/cas/upstream`: record a CA elsewhere that Custos forwards requests to. The answer carries
/// the RA's CSR; the RA's certificate from the upstream PKI is given with `PUT /v1/cas/{ca}/certificate`
/// (`AuthorityRoutes`), which makes the CA active.
struct UpstreamCARoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/cas/upstream", use: create)
    }

    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(CreateUpstreamCABody.self, from: request, limit: maxBodyBytes)
        if let asked = body.tenant { try context.requireTenant(asked) }
        let algorithm = try body.algorithm.map { name throws(APIError) in
            guard let algorithm = KeyAlgorithm(rawValue: name) else {
                throw APIError.badRequest(
                    "unknown_algorithm",
                    "unknown algorithm \"\(name)\"; one of "
                        + KeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            return algorithm
        }
        let chain = try AuthorityRoutes.certificates(body.certificate, field: "certificate")
        let anchors = try body.responseAnchors.map { text throws(APIError) in
            try AuthorityRoutes.certificates(text, field: "responseAnchors")
        }
        let externalAccountKey = try body.externalAccountKey.map { text throws(APIError) in
            guard let bytes = Base64URL.decode(text) else {
                throw APIError.badRequest("invalid_input", "externalAccountKey is not base64url")
            }
            return bytes
        }
        let created = try await authority.createUpstream(
            .init(
                id: body.id,
                tenant: body.tenant ?? context.tenantLimit,
                protocolName: body.protocol,
                url: body.url,
                certificate: chain[0],
                issuerChain: Array(chain.dropFirst()),
                responseAnchors: anchors ?? [],
                raSubject: body.raSubject,
                algorithm: algorithm ?? .ecP256,
                timeoutSeconds: body.timeoutSeconds ?? 30,
                attempts: body.attempts ?? 3,
                externalAccountKeyID: body.externalAccountKeyID,
                externalAccountKey: externalAccountKey
            ),
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: CAView(created)).makeResponse()
    }
}
