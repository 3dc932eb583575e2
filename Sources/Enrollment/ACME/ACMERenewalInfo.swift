import ACME
import CA
import Codecs
import Foundation
import MetadataStore
import X509

/// ACME Renewal Information (RFC 9773): when a certificate should be renewed, and orders that say
/// which certificate they replace.
extension ACMEService {
    /// Seconds a client should wait before asking again (section 4.3: a few hours).
    static let renewalInfoRetrySeconds = 21_600

    /// Section 4.2: `GET renewal-info/<certID>`, unauthenticated. The window is the last third of the
    /// certificate's life but the last sixth; for a revoked certificate it lies in the past, so that
    /// the client renews at once.
    func renewalInfo(certificateID: String, profile: EnrollmentProfile) async throws(ACMEProblem) -> ACMEResponse {
        let record = try await certificate(identifiedBy: certificateID, profile: profile)
        let now = EnrollmentService.now()
        let start: Int64
        let end: Int64
        var explanation: String?
        if record.status == .revoked {
            start = now - 86_400_000_000_000
            end = now - 3_600_000_000_000
            explanation = "the certificate is revoked"
        } else {
            let lifetime = record.notAfter - record.notBefore
            start = record.notBefore + lifetime / 3 * 2
            end = record.notBefore + lifetime / 6 * 5
        }
        var object: [String: Any] = [
            "suggestedWindow": ["start": Self.timestamp(start), "end": Self.timestamp(end)]
        ]
        if let explanation { object["explanation"] = explanation }
        return Self.json(200, object, headers: [("Retry-After", String(Self.renewalInfoRetrySeconds))])
    }

    /// A certificate of the profile's CA by its ARI id: base64url of the authority key identifier, a
    /// dot, base64url of the serial number's DER content octets (section 4.1).
    func certificate(identifiedBy text: String, profile: EnrollmentProfile) async throws(ACMEProblem)
        -> CertificateRecord
    {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let keyID = Base64URL.decode(String(parts[0])), !keyID.isEmpty,
            let serial = Base64URL.decode(String(parts[1])), !serial.isEmpty
        else { throw ACMEProblem(.malformed, "a certificate id is base64url(key identifier).base64url(serial)") }
        let authorityKeyID: [UInt8]?
        do {
            authorityKeyID = try await enrollment.authority.authority(profile.ca).certificate
                .flatMap { try $0.extensions.subjectKeyIdentifier }.map { Array($0.keyIdentifier) }
        } catch { throw ACMEProblem(.serverInternal, "the CA's certificate cannot be read: \(error)") }
        guard authorityKeyID == nil || authorityKeyID == keyID else {
            throw ACMEProblem(.malformed, "the certificate id names another CA's key", status: 404)
        }
        let candidates = [serial] + (serial.first == 0 ? [Array(serial.dropFirst())] : [])
        for candidate in candidates {
            if let record = try? await enrollment.authority.certificate(ca: profile.ca, serial: Hex.encode(candidate)) {
                return record
            }
        }
        throw ACMEProblem(.malformed, "the profile's CA issued no certificate with this id", status: 404)
    }

    /// Section 5: an order may name the certificate it replaces, which the account must have ordered.
    func replacedCertificate(_ text: String, account: ACMEAccountRecord, _ context: Context) async throws(ACMEProblem)
        -> CertificateRecord
    {
        let record = try await certificate(identifiedBy: text, profile: context.profile)
        guard record.metadata[Self.accountMetadataKey] == account.id else {
            throw ACMEProblem(.unauthorized, "\"replaces\" names a certificate the account did not order")
        }
        return record
    }
}
