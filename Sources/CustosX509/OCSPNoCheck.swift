public import SwiftASN1
public import X509

/// id-pkix-ocsp-nocheck (RFC 6960 section 4.2.2.2.1): relying parties need not check the revocation of
/// an OCSP responder's certificate. `ext-ocsp-nocheck EXTENSION ::= { SYNTAX NULL IDENTIFIED BY
/// id-pkix-ocsp-nocheck }`.
public struct OCSPNoCheck: CertificateExtensionConvertible, Sendable, Hashable {
    public static let oid: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 5]

    public init() {}

    public func makeCertificateExtension() throws -> Certificate.Extension {
        Certificate.Extension(oid: Self.oid, critical: false, value: [0x05, 0x00])
    }
}
