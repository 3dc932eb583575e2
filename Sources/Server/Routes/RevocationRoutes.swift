import APIModels
import CA
import CustosX509
import Foundation
import Hummingbird
import MetadataStore

/// Revocation and CRLs: revoke one certificate or every certificate of a CA that a filter matches,
/// read and publish a CA's CRL, and `/crl/<scope>.crl` for relying parties.
struct RevocationRoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    func add(public router: Router<CustosRequestContext>, protected group: RouterGroup<CustosRequestContext>) {
        router.get("crl/:file", use: crlFile)
        group.post("v1/cas/:ca/certificates/:serial/revoke", use: revoke)
        group.post("v1/cas/:ca/revocations", use: revokeMatching)
        group.get("v1/cas/:ca/crl", use: crl)
        group.post("v1/cas/:ca/crl", use: publishCRL)
    }

    /// `GET /crl/<scope>.crl` and `<scope>.delta.crl`, without credentials.
    @Sendable func crlFile(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let file = try context.parameters.require("file")
        let delta = file.hasSuffix(".delta.crl")
        guard file.hasSuffix(".crl") else { throw APIError(.notFound, "not_found", "CRLs end in .crl") }
        let scope = String(file.dropLast(delta ? 10 : 4))
        return CertificateResponses.crl(try await authority.crls.current(scope, delta: delta))
    }

    @Sendable func revoke(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let serial = try context.parameters.require("serial")
        let body = try await JSONBody.decode(RevokeBody.self, from: request, limit: maxBodyBytes, dates: true)
        guard let reason = CRLReason(name: body.reason ?? "unspecified") else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown reason \"\(body.reason ?? "")\"; one of "
                    + CRLReason.allCases.filter { $0 != .removeFromCRL }.map(\.description).joined(separator: ", ")
            )
        }
        let record = try await authority.revoke(
            ca: ca,
            serial: serial,
            reason: reason,
            invalidityDate: body.invalidityDate,
            requester: context.requester
        )
        return CertificateAnswer(record, chain: nil).response()
    }

    /// Revokes every certificate of the CA that the filter matches.
    @Sendable func revokeMatching(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let body = try await JSONBody.decode(BulkRevokeBody.self, from: request, limit: maxBodyBytes, dates: true)
        guard let reason = CRLReason(name: body.reason ?? "unspecified"), reason != .removeFromCRL else {
            throw APIError.badRequest("invalid_input", "unknown reason \"\(body.reason ?? "")\"")
        }
        let filter = body.filter
        let query = CertificateQuery(
            serial: try filter.serial.map { text throws(APIError) in
                guard let bytes = SerialNumbers.bytes(hex: text) else {
                    throw APIError.badRequest("invalid_input", "filter.serial is not hex")
                }
                return bytes
            },
            text: filter.q,
            metadata: filter.metadata ?? [:],
            category: filter.category,
            expiresAfter: filter.expiresAfter,
            expiresBefore: filter.expiresBefore
        )
        let revoked = try await authority.revokeAll(
            ca: ca,
            matching: query,
            reason: reason,
            invalidityDate: body.invalidityDate,
            requester: context.requester
        )
        return try JSONResponse(body: BulkRevokeAnswer(revoked: revoked.count, serials: revoked)).makeResponse()
    }

    /// The CA's current CRL (or with `delta=true` its delta CRL).
    @Sendable func crl(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let ca = try await context.ca(authority)
        return CertificateResponses.crl(
            try await authority.crls.current(
                try authority.currentCRLScope(ca),
                delta: request.uri.queryParameters.get("delta") == "true"
            )
        )
    }

    /// Publishes a new full CRL (and its delta) now.
    @Sendable func publishCRL(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let scope = try await authority.currentCRLScope(ca)
        let full = try await authority.crls.publish(scope)
        let delta = try await authority.crls.current(scope, delta: true)
        return try JSONResponse(
            body: CRLView(
                ca: ca,
                number: full.number,
                thisUpdate: Date(timeIntervalSince1970: Double(full.thisUpdate)),
                nextUpdate: Date(timeIntervalSince1970: Double(full.nextUpdate)),
                entries: full.entries,
                delta: .init(
                    number: delta.number,
                    entries: delta.entries,
                    nextUpdate: Date(timeIntervalSince1970: Double(delta.nextUpdate))
                )
            )
        ).makeResponse()
    }
}
