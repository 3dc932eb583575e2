import APIModels
import CA
import Ceremony
import Codecs
import Foundation
import HSM
import HTTPTypes
import Hummingbird
import MetadataStore

/// Bringing existing PKI into Custos: a CA key made in a key ceremony (by reference), a CA of another
/// PKI (its certificate, or with its key from PKCS#12 into the HSM), and certificates a CA issued
/// before Custos held it.
struct AuthorityImportRoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    /// The password of a PKCS#12 file sent to the bulk import (a header, so that it is never in a
    /// logged URL).
    static let pkcs12PasswordHeader = HTTPField.Name("X-PKCS12-Password")!

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/cas/import-ceremony", use: importCeremony)
        group.post("v1/cas/import", use: importAuthority)
        group.post("v1/cas/:ca/certificates/import", use: importCertificates)
    }

    /// A CA key made in a key ceremony goes into service by reference: an administrator's act.
    @Sendable func importCeremony(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin)
        let body = try await JSONBody.decode(ImportCeremonyBody.self, from: request, limit: maxBodyBytes)
        if let asked = body.tenant { try context.requireTenant(asked) }
        let transcript: Transcript
        do {
            transcript = try SignedTranscript.verify(data: Array(body.transcript.utf8), expectedAuditKey: body.auditKey)
        } catch {
            throw APIError.badRequest("invalid_transcript", "\(error)")
        }
        let certificates = try CertificateImporter.readCertificates(Array(body.certificate.utf8))
        guard certificates.count == 1 else {
            throw APIError.badRequest("invalid_certificate", "certificate must hold exactly one certificate")
        }
        let chain = try (body.chain ?? []).flatMap { try CertificateImporter.readCertificates(Array($0.utf8)) }
        let handover: (reference: KeyReference, ceremony: String)
        do {
            handover = try transcript.handover(
                of: certificates[0],
                tokenSerial: authority.signing.keyStore.pool.tokenInfo.serialNumber
            )
        } catch {
            throw APIError.badRequest("invalid_transcript", "\(error)")
        }
        let adopted = try await authority.adoptAuthority(
            id: body.id,
            certificate: certificates[0],
            chain: chain,
            key: handover.reference,
            tenant: body.tenant ?? context.tenantLimit,
            ceremony: handover.ceremony,
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: CAView(adopted)).makeResponse()
    }

    /// A CA of another PKI: its certificate (a trust anchor or intermediate without a key here), or a
    /// PKCS#12 file whose key moves into the HSM (an administrator's act, as is every key import).
    @Sendable func importAuthority(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(ImportCABody.self, from: request, limit: maxBodyBytes)
        if let asked = body.tenant { try context.requireTenant(asked) }
        if let pkcs12 = body.pkcs12 {
            try context.require(.admin)
            guard body.certificate == nil, body.parent == nil else {
                throw APIError.badRequest("invalid_input", "give pkcs12 or certificate (and parent), not both")
            }
            guard let der = Base64.decode(pkcs12), !der.isEmpty else {
                throw APIError.badRequest("invalid_input", "pkcs12 must be the file in standard, padded base64")
            }
            let imported = try await authority.importAuthority(
                id: body.id,
                pkcs12: der,
                password: Array((body.password ?? "").utf8),
                tenant: body.tenant ?? context.tenantLimit,
                requester: context.requester
            )
            return try JSONResponse(status: .created, body: CAView(imported)).makeResponse()
        }
        guard let certificate = body.certificate else {
            throw APIError.badRequest("invalid_input", "certificate (PEM) or pkcs12 (base64) is required")
        }
        let certificates = try CertificateImporter.readCertificates(Array(certificate.utf8))
        guard certificates.count == 1 else {
            throw APIError.badRequest("invalid_certificate", "certificate must hold exactly one certificate")
        }
        let imported = try await CertificateImporter(
            store: authority.store,
            defaultTenant: authority.configuration.defaultTenant
        )
        .importAuthority(
            id: body.id,
            certificate: certificates[0],
            parent: body.parent,
            tenant: body.tenant ?? context.tenantLimit,
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: CAView(imported)).makeResponse()
    }

    /// Certificates the CA issued before Custos held it, in the body as DER, PEM, PKCS#7 or PKCS#12.
    @Sendable func importCertificates(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let buffer = try await JSONBody.collect(request, limit: maxBodyBytes)
        let result = try await CertificateImporter(store: authority.store).importCertificates(
            try CertificateImporter.readCertificates(
                Array(buffer.readableBytesView),
                pkcs12Password: request.headers[Self.pkcs12PasswordHeader].map { Array($0.utf8) }
            ),
            ca: ca,
            metadata: RouteParameters.metadata(request),
            requester: context.requester
        )
        return try JSONResponse(body: result).makeResponse()
    }
}
