public import SwiftASN1
public import X509

/// The policies a certificate was issued under (RFC 5280 section 4.2.1.4), as bare policy OIDs.
///
/// ```
/// certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
///
/// PolicyInformation ::= SEQUENCE {
///      policyIdentifier   CertPolicyId,
///      policyQualifiers   SEQUENCE SIZE (1..MAX) OF
///                              PolicyQualifierInfo OPTIONAL }
///
/// CertPolicyId ::= OBJECT IDENTIFIER
/// ```
///
/// Qualifiers are left out: RFC 5280 recommends that policy information terms consist only of an OID.
public struct CertificatePolicies: CertificateExtensionConvertible, Sendable, Hashable {
    public static let oid: ASN1ObjectIdentifier = [2, 5, 29, 32]

    public var policies: [ASN1ObjectIdentifier]

    public init(_ policies: [ASN1ObjectIdentifier]) { self.policies = policies }

    public func makeCertificateExtension() throws -> Certificate.Extension {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { list in
            for policy in policies {
                try list.appendConstructedNode(identifier: .sequence) { information in
                    try information.serialize(policy)
                }
            }
        }
        return Certificate.Extension(oid: Self.oid, critical: false, value: serializer.serializedBytes[...])
    }
}
