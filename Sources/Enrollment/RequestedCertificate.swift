import CA
import CMP
import CustosX509
import SwiftASN1
import X509

/// What a request asks to certify: from a PKCS#10 CSR (its signature checked here) or from a CRMF
/// CertRequest whose proof of possession CMP checked (`ProvenRequest`).
struct RequestedCertificate {
    let subject: DistinguishedName
    let publicKey: Certificate.PublicKey
    let alternativeNames: [GeneralName]
    /// The CSR, parsed and checked (PKCS#10 only).
    let verified: VerifiedCSR?
    /// The CRMF request (CMP only).
    let proven: ProvenRequest?

    /// A request as a protocol hands it over: `proven` set only by a protocol that checked possession.
    init(csr der: [UInt8], proven: ProvenRequest?) throws(EnrollmentError) {
        if let proven {
            subject = proven.subject
            publicKey = proven.publicKey
            alternativeNames = proven.alternativeNames
            verified = nil
            self.proven = proven
            return
        }
        let verified: VerifiedCSR
        do {
            verified = try CertificateAuthority.verify(csr: der)
            alternativeNames = try CertificateAuthority.requestedAlternativeNames(verified.request)
        } catch {
            throw EnrollmentError.from(error)
        }
        subject = verified.request.subject
        publicKey = verified.request.publicKey
        self.verified = verified
        self.proven = nil
    }

    /// A request held for approval: CMP stores a CRMF CertRequest (checked when it came) where the
    /// others store a CSR; a CertRequest starts with its INTEGER id, a CSR with a SEQUENCE.
    init(held der: [UInt8], protocolName: String) throws(EnrollmentError) {
        guard protocolName == EnrollmentProfile.EnrollmentProtocol.cmp.rawValue, Self.isCertRequest(der) else {
            try self.init(csr: der, proven: nil)
            return
        }
        let request: CertReqMessage
        do { request = try CertReqMessage(certRequestDER: der) } catch {
            throw EnrollmentError(.invalidCSR, "the held CRMF request does not read: \(error.reason)")
        }
        try self.init(csr: der, proven: try Self.proven(request))
    }

    /// The subject, key and names of a CRMF request (its proof of possession checked by the caller).
    static func proven(_ request: CertReqMessage) throws(EnrollmentError) -> ProvenRequest {
        let key: Certificate.PublicKey?
        let names: [GeneralName]
        do {
            key = try request.template.publicKey()
            names = try CertificateAuthority.requestedAlternativeNames(
                in: try Certificate.Extensions(request.template.extensions)
            )
        } catch let error as CAError {
            throw EnrollmentError.from(error)
        } catch {
            throw EnrollmentError(.invalidCSR, "the certificate template does not read: \(error)")
        }
        guard let key else { throw EnrollmentError(.invalidCSR, "the certificate template has no public key") }
        return ProvenRequest(
            subject: request.template.subject ?? DistinguishedName(),
            publicKey: key,
            alternativeNames: names,
            der: request.certRequestDER
        )
    }

    static func isCertRequest(_ der: [UInt8]) -> Bool {
        guard let node = try? DER.parse(der), case .constructed(let children) = node.content,
            let first = children.first(where: { _ in true })
        else { return false }
        return first.identifier == .integer
    }

    /// SHA-256 of the key's SubjectPublicKeyInfo.
    var keyHash: [UInt8] {
        get throws(EnrollmentError) {
            do { return EnrollmentService.sha256(try derBytes(publicKey)) } catch { throw EnrollmentError.from(error) }
        }
    }
}
