import CA
import CMP
import Codecs
import CustosX509
import Foundation
import MetadataStore
import X509

/// CMP revocation (rr/rp, RFC 9483 section 4.2): by the certificate's holder (signed with the
/// certificate itself) or by a registration authority the profile trusts (a certificate chaining to its
/// anchors with id-kp-cmcRA). A MAC-protected rr is refused: a shared secret does not say whose
/// certificate it is.
extension EnrollmentService {
    func revoke(_ revocations: [RevocationDetails], _ exchange: CMPExchange) async throws -> CMPReply {
        try await recordClosedTransaction(exchange)
        guard revocations.count == 1, let details = revocations.first else {
            throw CMPError(.badRequest, "an rr names exactly one certificate")
        }
        guard let signer = exchange.signer else {
            throw CMPError(.notAuthorized, "a revocation request is signed by the holder or an RA, not MAC-protected")
        }
        guard let serial = details.certificate.serialNumber, let issuer = details.certificate.issuer else {
            throw CMPError(.badCertTemplate, "the rr's template names the certificate by issuer and serial number")
        }
        let profile = exchange.profile
        guard let ca = try await authority.authority(profile.ca).certificate, issuer == ca.subject else {
            throw CMPError(.badCertId, "the certificate was not issued by CA \(profile.ca)")
        }
        let serialText = Hex.encode(serial)
        let (record, revoked) = try await store.read { reader in
            (
                try reader.certificate(issuer: profile.ca, serial: serial),
                try reader.revocation(issuer: profile.ca, serial: serial) != nil
            )
        }
        guard let record else {
            throw CMPError(.badCertId, "CA \(profile.ca) has issued no certificate \(serialText)")
        }
        let holder = (try? derBytes(signer)) == record.der
        if !holder {
            let identity = try await authenticate(exchange.credentials, for: profile)
            let isRA =
                if case .anchoredCertificate(let certificate) = identity {
                    Self.isRegistrationAuthority(certificate)
                } else { false }
            guard isRA else {
                throw CMPError(.notAuthorized, "only the holder of certificate \(serialText) or an RA may revoke it")
            }
        }
        guard !revoked else { throw CMPError(.certRevoked, "certificate \(serialText) is revoked already") }
        let reason =
            try details.reason.map { code throws(CMPError) in
                guard let reason = CRLReason(rawValue: UInt8(clamping: code)), code >= 0, reason != .removeFromCRL
                else {
                    throw CMPError(.badRequest, "\(code) is not a revocation reason")
                }
                return reason
            } ?? .unspecified
        _ = try await authority.revoke(
            ca: profile.ca,
            serial: Hex.encode(record.serial),
            reason: reason,
            requester: Requester(actor: "cmp/\(profile.id)/\(exchange.clientName)", requestID: exchange.requestID)
        )
        return CMPReply(.rp(RevocationResponse(statuses: [PKIStatusInfo(.accepted)])))
    }
}
