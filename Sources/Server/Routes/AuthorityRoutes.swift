import APIModels
import CA
import Codecs
import CustosX509
import Foundation
import Hummingbird
import MetadataStore
import PKCS11
import Signing
import X509

/// `/v1/cas`: create, list and read CAs, their certificates, chains and CSRs; give an external sub-CA
/// its certificate; renew and retire. `/ca/<id>.crt` serves a CA certificate to relying parties (the
/// CA-issuers URL of what it signs).
struct AuthorityRoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    func add(public router: Router<CustosRequestContext>, protected group: RouterGroup<CustosRequestContext>) {
        router.get("ca/:file", use: caCertificateFile)
        group.post("v1/cas", use: create)
        group.get("v1/cas", use: list)
        group.get("v1/cas/:ca", use: show)
        group.get("v1/cas/:ca/certificate", use: certificate)
        group.get("v1/cas/:ca/chain", use: chain)
        group.get("v1/cas/:ca/csr", use: csr)
        group.put("v1/cas/:ca/certificate", use: importCertificate)
        group.post("v1/cas/:ca/renew", use: renew)
        group.post("v1/cas/:ca/retire", use: retire)
    }

    /// `GET /ca/<scope>.crt`, without credentials. One URL per CA key, like CRLs: `<ca>.crt` is the
    /// newest certificate of the CA's first key, `<ca>.<key>.crt` of a key made by a re-key, so what a
    /// certificate's CA-issuers URL names always certifies the key that signed it.
    @Sendable func caCertificateFile(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let file = try context.parameters.require("file")
        guard file.hasSuffix(".crt") else { throw APIError(.notFound, "not_found", "CA certificates end in .crt") }
        let name = String(file.dropLast(4))
        let (ca, _) = CertificateAuthority.parseCRLScope(name)
        let certificate =
            try await authority.authority(ca).keyName == nil
            ? try authority.chain(name)[0] : try authority.certificate(forScope: name)
        return CertificateResponses.binary(try derBytes(certificate), type: "application/pkix-cert")
    }

    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(CreateCABody.self, from: request, limit: maxBodyBytes)
        if let asked = body.tenant { try context.requireTenant(asked) }
        if let parent = body.parent, let record = try? await authority.authority(parent).record {
            try context.requireTenant(record.tenant)
        }
        guard let algorithm = KeyAlgorithm(rawValue: body.algorithm) else {
            throw APIError.badRequest(
                "unknown_algorithm",
                "unknown algorithm \"\(body.algorithm)\"; one of "
                    + KeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        let created = try await authority.create(
            .init(
                id: body.id,
                subject: body.subject,
                algorithm: algorithm,
                validityDays: body.validityDays,
                pathLength: body.pathLength,
                parent: body.parent,
                tenant: body.tenant ?? context.tenantLimit,
                external: body.external ?? false
            ),
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: CAView(created)).makeResponse()
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let limit = try RouteParameters.limit(request)
        let asked = request.uri.queryParameters.get("tenant")
        if let asked { try context.requireTenant(asked) }
        let page = try await authority.list(
            after: request.uri.queryParameters.get("cursor"),
            limit: limit,
            tenant: asked ?? context.tenantLimit
        )
        return try JSONResponse(
            body: CAList(cas: page.map(CAView.init), nextCursor: page.count == limit ? page.last?.id : nil)
        ).makeResponse()
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        return try await JSONResponse(body: CAView(try authority.authority(try context.ca(authority)))).makeResponse()
    }

    @Sendable func certificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let chain = try await authority.chain(try context.ca(authority))
        return try CertificateResponses.certificates(
            [chain[0]],
            format: request.uri.queryParameters.get("format") ?? "pem"
        )
    }

    @Sendable func chain(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let chain = try await authority.chain(try context.ca(authority))
        return try CertificateResponses.certificates(chain, format: request.uri.queryParameters.get("format") ?? "pem")
    }

    /// The CSR of an external sub-CA, for its parent outside Custos.
    @Sendable func csr(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let ca = try await authority.authority(try context.ca(authority))
        guard let csr = ca.record.csr else {
            throw APIError(
                .notFound,
                "not_found",
                "CA \(ca.id) has no CSR: only external sub-CAs and upstream CAs (their RA's) do"
            )
        }
        return CertificateResponses.binary(
            Array(PEM.encode(csr, label: "CERTIFICATE REQUEST").utf8),
            type: "application/pkcs10"
        )
    }

    /// The certificate an external parent issued for a pending sub-CA (or for its renewal).
    @Sendable func importCertificate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(CACertificateBody.self, from: request, limit: maxBodyBytes)
        let imported = try await authority.importCertificate(
            ca: try context.ca(authority),
            certificate: try Self.certificates(body.certificate, field: "certificate")[0],
            issuerChain: try Self.certificates(body.issuerChain, field: "issuerChain"),
            requester: context.requester
        )
        return try JSONResponse(body: CAView(imported)).makeResponse()
    }

    @Sendable func renew(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(RenewCABody.self, from: request, limit: maxBodyBytes)
        let renewed = try await authority.renew(
            ca: try context.ca(authority),
            rekey: body.rekey ?? false,
            validityDays: body.validityDays,
            requester: context.requester
        )
        return try JSONResponse(body: CAView(renewed)).makeResponse()
    }

    @Sendable func retire(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let retired = try await authority.retire(ca: try context.ca(authority), requester: context.requester)
        return try JSONResponse(body: CAView(retired)).makeResponse()
    }

    /// A non-empty PEM certificate list from the body field `field`.
    static func certificates(_ text: String, field: String) throws(APIError) -> [Certificate] {
        let certificates: [Certificate]
        do { certificates = try PEMCertificates.parse(text) } catch {
            throw APIError.badRequest("invalid_certificate", "\(field) is not a PEM certificate list: \(error)")
        }
        guard !certificates.isEmpty else { throw APIError.badRequest("invalid_certificate", "\(field) is empty") }
        return certificates
    }
}
