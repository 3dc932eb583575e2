import CA
import CustosX509
import Foundation
import SwiftASN1
import X509

/// The checks a ceremony makes on a certificate before it is signed in the HSM: the RFC 5280 profile
/// of a CA certificate and the ceremony's own limits. Each problem is one sentence.
enum CertificateLint {
    /// A self-signed root: RFC 5280 sections 4.1 and 4.2.1.
    static func root(_ certificate: Certificate, maxValidityDays: Int) -> [String] {
        var problems = common(certificate, maxValidityDays: maxValidityDays, requireCA: true)
        if certificate.issuer != certificate.subject { problems.append("a root's issuer must equal its subject") }
        if (try? certificate.extensions.extendedKeyUsage) != nil {
            problems.append("a root carries no extendedKeyUsage")
        }
        return problems
    }

    /// What every CA certificate a ceremony signs must satisfy.
    private static func common(_ certificate: Certificate, maxValidityDays: Int, requireCA: Bool) -> [String] {
        var problems: [String] = []
        if certificate.version != .v3 { problems.append("version is not v3 (4.1.2.1)") }
        let serial = Array(certificate.serialNumber.bytes)
        if serial.isEmpty || serial.count > 20 {
            problems.append("the serial has \(serial.count) octets; 1 to 20 (4.1.2.2)")
        }
        if let first = serial.first, first & 0x80 != 0 { problems.append("the serial is negative (4.1.2.2)") }
        if serial.allSatisfy({ $0 == 0 }) { problems.append("the serial is zero (4.1.2.2)") }
        if certificate.subject.isEmpty { problems.append("the subject is empty (4.1.2.6)") }
        if certificate.notValidAfter <= certificate.notValidBefore {
            problems.append("notAfter is not after notBefore")
        }
        let days = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) / 86_400
        if days > Double(maxValidityDays) {
            problems.append("validity of \(Int(days)) days is over the ceremony's cap of \(maxValidityDays)")
        }
        let extensions = certificate.extensions
        if (try? extensions.subjectKeyIdentifier) == nil {
            problems.append("subjectKeyIdentifier is missing (4.2.1.2)")
        }
        if (try? extensions.keyUsage) == nil { problems.append("keyUsage is missing (4.2.1.3)") }
        if extensions.first(where: { $0.oid == .X509ExtensionID.keyUsage })?.critical != true {
            problems.append("keyUsage should be critical (4.2.1.3)")
        }
        guard requireCA else { return problems }
        switch try? extensions.basicConstraints {
        case .isCertificateAuthority?:
            if extensions.first(where: { $0.oid == .X509ExtensionID.basicConstraints })?.critical != true {
                problems.append("basicConstraints must be critical (4.2.1.9)")
            }
        default: problems.append("basicConstraints must say CA:TRUE (4.2.1.9)")
        }
        if let usage = try? extensions.keyUsage, !usage.keyCertSign {
            problems.append("keyUsage lacks keyCertSign (4.2.1.3)")
        }
        return problems
    }

    /// A sub-CA certificate under `issuer`: the CA profile, the issuer's name and key identifier, and
    /// a validity inside the issuer's.
    static func subordinate(_ certificate: Certificate, issuer: Certificate, maxValidityDays: Int) -> [String] {
        issuedBy(certificate, issuer: issuer, maxValidityDays: maxValidityDays, requireCA: true)
    }

    private static func issuedBy(_ certificate: Certificate, issuer: Certificate, maxValidityDays: Int, requireCA: Bool)
        -> [String]
    {
        var problems = common(certificate, maxValidityDays: maxValidityDays, requireCA: requireCA)
        if certificate.issuer != issuer.subject {
            problems.append("the issuer name differs from the issuer's subject (4.1.2.4)")
        }
        if certificate.subject == issuer.subject { problems.append("the subject equals the issuer's subject") }
        if certificate.notValidAfter > issuer.notValidAfter { problems.append("the certificate outlives its issuer") }
        let issuerKeyID = (try? issuer.extensions.subjectKeyIdentifier)?.keyIdentifier
        let authorityKeyID = (try? certificate.extensions.authorityKeyIdentifier)?.keyIdentifier
        if authorityKeyID == nil { problems.append("authorityKeyIdentifier is missing (4.2.1.1)") }
        if let issuerKeyID, authorityKeyID != issuerKeyID {
            problems.append("authorityKeyIdentifier does not match the issuer's subjectKeyIdentifier")
        }
        return problems
    }

    /// A delegated OCSP responder's certificate (RFC 6960 section 4.2.2.2): issued by the CA it answers
    /// for, id-kp-OCSPSigning, id-pkix-ocsp-nocheck, digitalSignature, not a CA, short-lived.
    static func ocspSigner(_ certificate: Certificate, issuer: Certificate, maxValidityDays: Int) -> [String] {
        var problems = issuedBy(certificate, issuer: issuer, maxValidityDays: maxValidityDays, requireCA: false)
        let extensions = certificate.extensions
        if case .isCertificateAuthority? = try? extensions.basicConstraints {
            problems.append("an OCSP signer is not a CA")
        }
        if (try? extensions.extendedKeyUsage)?.contains(.ocspSigning) != true {
            problems.append("extendedKeyUsage lacks id-kp-OCSPSigning (RFC 6960 4.2.2.2)")
        }
        if extensions.first(where: { $0.oid == OCSPNoCheck.oid }) == nil {
            problems.append("id-pkix-ocsp-nocheck is missing (RFC 6960 4.2.2.2.1)")
        }
        if (try? extensions.keyUsage)?.digitalSignature != true { problems.append("keyUsage lacks digitalSignature") }
        return problems
    }
}
