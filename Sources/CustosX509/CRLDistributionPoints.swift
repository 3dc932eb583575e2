public import SwiftASN1
public import X509

/// Where relying parties fetch CRLs (RFC 5280 section 4.2.1.13); with `freshest`, the Freshest CRL
/// extension that points at delta CRLs (RFC 5280 section 4.2.1.15), which has the same syntax.
///
/// ```
/// CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
///
/// DistributionPoint ::= SEQUENCE {
///      distributionPoint       [0]     DistributionPointName OPTIONAL,
///      reasons                 [1]     ReasonFlags OPTIONAL,
///      cRLIssuer               [2]     GeneralNames OPTIONAL }
///
/// DistributionPointName ::= CHOICE {
///      fullName                [0]     GeneralNames,
///      nameRelativeToCRLIssuer [1]     RelativeDistinguishedName }
/// ```
///
/// Custos writes one distribution point per URL, each with only a `fullName` (the tags are implicit;
/// `[0] DistributionPointName` wraps a CHOICE, so it is constructed).
public struct CRLDistributionPoints: CertificateExtensionConvertible, Sendable, Hashable {
    public static let oid: ASN1ObjectIdentifier = [2, 5, 29, 31]
    public static let freshestCRLOID: ASN1ObjectIdentifier = [2, 5, 29, 46]

    public var urls: [String]
    /// Encode as the Freshest CRL extension instead.
    public var freshest: Bool

    public init(urls: [String], freshest: Bool = false) {
        self.urls = urls
        self.freshest = freshest
    }

    public func makeCertificateExtension() throws -> Certificate.Extension {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { points in
            for url in urls { try Self.serializePoint(url, into: &points) }
        }
        return Certificate.Extension(
            oid: freshest ? Self.freshestCRLOID : Self.oid,
            critical: false,
            value: serializer.serializedBytes[...]
        )
    }

    /// One `DistributionPoint` with a `fullName` URI (also what an issuing distribution point names).
    public static func serializePoint(_ url: String, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { point in
            try serializeName(url, into: &point)
        }
    }

    /// `[0] DistributionPointName` holding `fullName [0] GeneralNames` with one URI.
    public static func serializeName(_ url: String, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
            name in
            try name.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                names in
                try names.serialize(GeneralName.uniformResourceIdentifier(url))
            }
        }
    }
}
