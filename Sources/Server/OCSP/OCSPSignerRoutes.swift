import APIModels
import CA
import Codecs
import Foundation
import Hummingbird
import MetadataStore
import Signing

/// `/v1/cas/{ca}/ocsp-signer`: a CA's delegated OCSP signer (shown, and rotated at once on request;
/// the server also rotates it automatically).
struct OCSPSignerRoutes {
    let authority: CertificateAuthority
    /// Nil when delegated signers are off (`ocsp.delegatedSigners`).
    let validityDays: Int?

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("v1/cas/:ca/ocsp-signer", use: show)
        group.post("v1/cas/:ca/ocsp-signer/rotate", use: rotate)
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let ca = try await context.ca(authority)
        _ = try await authority.authority(ca)
        guard let record = try await authority.ocspSigner(ca) else {
            throw APIError(.notFound, "no_ocsp_signer", "CA \(ca) has no delegated OCSP signer")
        }
        return try JSONResponse(body: OCSPSignerView(record, inUse: validityDays != nil)).makeResponse()
    }

    @Sendable func rotate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        guard let validityDays else {
            throw APIError(
                .conflict,
                "ocsp_delegation_off",
                "delegated OCSP signers are off; set ocsp.delegatedSigners: true in the configuration"
            )
        }
        let record = try await authority.rotateOCSPSigner(
            ca: ca,
            validityDays: validityDays,
            requester: context.requester
        )
        return try JSONResponse(body: OCSPSignerView(record, inUse: true)).makeResponse()
    }
}

extension OCSPSignerView {
    init(_ record: OCSPSignerRecord, inUse: Bool) {
        self.init(
            ca: record.ca,
            generation: record.generation,
            key: record.keyName,
            caKey: record.caKeyName,
            certificate: PEM.encode(record.certificate),
            notBefore: Date(timeIntervalSince1970: Double(record.notBefore)),
            notAfter: Date(timeIntervalSince1970: Double(record.notAfter)),
            retiredKeys: record.retired.map(\.keyName),
            inUse: inUse
        )
    }
}
