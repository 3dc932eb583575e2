public import SwiftASN1

/// One entry of a CRL's `revokedCertificates` (RFC 5280 section 5.1.2.6).
///
/// ```
/// revokedCertificates     SEQUENCE OF SEQUENCE  {
///      userCertificate         CertificateSerialNumber,
///      revocationDate          Time,
///      crlEntryExtensions      Extensions OPTIONAL
///                               -- if present, version MUST be v2
///                           }  OPTIONAL,
/// ```
///
/// Entry extensions Custos writes: reasonCode (section 5.3.1, absent for `unspecified`) and
/// invalidityDate (section 5.3.2: `InvalidityDate ::= GeneralizedTime`), both non-critical.
public struct RevokedCertificate: DERSerializable, Sendable, Hashable {
    /// Serial number bytes, big-endian, as in the certificate.
    public var serial: [UInt8]
    /// Seconds since 1970.
    public var revocationDate: Int64
    public var reason: CRLReason
    /// Seconds since 1970; when the key is known or suspected to have been compromised.
    public var invalidityDate: Int64?

    public init(serial: [UInt8], revocationDate: Int64, reason: CRLReason, invalidityDate: Int64? = nil) {
        self.serial = serial
        self.revocationDate = revocationDate
        self.reason = reason
        self.invalidityDate = invalidityDate
    }

    public static let invalidityDateOID: ASN1ObjectIdentifier = [2, 5, 29, 24]

    public func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { entry in
            // CertificateSerialNumber ::= INTEGER; the stored bytes are already the minimal positive form.
            entry.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serial) }
            try entry.serialize(X509Time(secondsSince1970: revocationDate))
            guard reason != .unspecified || invalidityDate != nil else { return }
            try entry.appendConstructedNode(identifier: .sequence) { extensions in
                if reason != .unspecified {
                    try CRLExtension.serialize(
                        oid: CRLReason.oid,
                        critical: false,
                        value: reason.encodedValue,
                        into: &extensions
                    )
                }
                if let invalidityDate {
                    var value = DER.Serializer()
                    // GeneralizedTime always, whatever the year (section 5.3.2).
                    try value.serialize(X509Time.generalizedTime(invalidityDate))
                    try CRLExtension.serialize(
                        oid: Self.invalidityDateOID,
                        critical: false,
                        value: value.serializedBytes,
                        into: &extensions
                    )
                }
            }
        }
    }
}

/// `Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET
/// STRING }` (RFC 5280 section 4.1), written directly: CRLs have up to millions of entry extensions.
public enum CRLExtension {
    public static func serialize(
        oid: ASN1ObjectIdentifier,
        critical: Bool,
        value: [UInt8],
        into coder: inout DER.Serializer
    )
        throws
    {
        try coder.appendConstructedNode(identifier: .sequence) { node in
            try node.serialize(oid)
            // DER leaves out a BOOLEAN equal to its DEFAULT.
            if critical { try node.serialize(true) }
            try node.serialize(ASN1OctetString(contentBytes: value[...]))
        }
    }
}
