import CA
import Codecs
import CustosX509
import Enrollment
import Hummingbird
import MetadataStore
import SwiftASN1
import X509

/// What a person does to their own certificates in the portal: revoke one (for a reason about them or
/// their key), and find the one a renewal names.
struct PortalCertificateRoutes {
    let site: ConsoleSite
    let enrollment: EnrollmentService

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("certificates/:serial/revoke", use: revoke)
    }

    @Sendable func revoke(_ request: Request, context: CustosRequestContext) async throws -> Response {
        guard let state = context.portal else { throw APIError.unauthorized }
        let record = try await Self.own(try context.parameters.require("serial"), state, enrollment)
        let name = state.form["reason"] ?? ""
        guard let reason = CRLReason(name: name) else {
            throw APIError.badRequest("invalid_input", "unknown reason \"\(name)\"; choose one from the list")
        }
        _ = try await enrollment.portalRevoke(
            profile: state.session.record.profile,
            client: state.session.client,
            ca: record.issuer,
            serial: Hex.encode(record.serial),
            reason: reason,
            requestID: context.id
        )
        return ConsoleSite.redirect("/portal/?revoked=\(Hex.encode(record.serial))")
    }

    /// The session's own certificate with `serial` (hex), or 404 as if there were none.
    static func own(_ serial: String, _ state: PortalRequestState, _ enrollment: EnrollmentService) async throws
        -> CertificateRecord
    {
        let history = try await enrollment.portalHistory(
            profile: state.session.record.profile,
            client: state.session.client
        )
        guard let record = history.certificates.first(where: { Hex.encode($0.serial) == serial.lowercased() }) else {
            throw APIError(.notFound, "not_found", "you have no certificate with serial \(serial)")
        }
        return record
    }

    /// The common name of a stored certificate's subject (what the page's key generation asks for).
    static func commonName(_ record: CertificateRecord) -> String {
        guard let name = try? DistinguishedNameText.parse(record.subject) else { return "" }
        return DistinguishedNameText.values(.RDNAttributeType.commonName, in: name).first ?? ""
    }
}
