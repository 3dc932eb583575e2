public import SwiftASN1
public import X509

/// A CRL as Custos issues it (RFC 5280 section 5.1), built with swift-asn1 (swift-certificates has no
/// CRL type) and signed in the HSM.
///
/// ```
/// CertificateList  ::=  SEQUENCE  {
///      tbsCertList          TBSCertList,
///      signatureAlgorithm   AlgorithmIdentifier,
///      signatureValue       BIT STRING  }
///
/// TBSCertList  ::=  SEQUENCE  {
///      version                 Version OPTIONAL,
///                                   -- if present, MUST be v2
///      signature               AlgorithmIdentifier,
///      issuer                  Name,
///      thisUpdate              Time,
///      nextUpdate              Time OPTIONAL,
///      revokedCertificates     SEQUENCE OF SEQUENCE  { … }  OPTIONAL,
///      crlExtensions           [0]  EXPLICIT Extensions OPTIONAL
///                                   -- if present, version MUST be v2
///                           }
/// ```
///
/// Always v2 with nextUpdate (section 5.1.2.5: conforming CRL issuers MUST include it), the authority
/// key identifier and the CRL number; a delta CRL adds the delta CRL indicator, a full CRL with a
/// delta CRL URL the freshest CRL pointer. `revokedCertificates` is left out when empty (section
/// 5.1.2.6).
public struct CertificateRevocationList: Sendable {
    /// The issuer's `Name` exactly as it is encoded in the CA certificate's subject.
    public var issuerName: [UInt8]
    /// Seconds since 1970.
    public var thisUpdate: Int64
    public var nextUpdate: Int64
    public var entries: [RevokedCertificate]
    /// `CRLNumber ::= INTEGER (0..MAX)` (section 5.2.3).
    public var number: UInt64
    /// The CA certificate's subject key identifier (section 5.2.1).
    public var authorityKeyIdentifier: [UInt8]
    /// For a delta CRL: the number of the full CRL it updates (section 5.2.4, `BaseCRLNumber`).
    public var baseNumber: UInt64?
    /// For a full CRL: where its delta CRLs are (section 5.2.6).
    public var freshestCRLURL: String?

    public init(
        issuerName: [UInt8],
        thisUpdate: Int64,
        nextUpdate: Int64,
        entries: [RevokedCertificate],
        number: UInt64,
        authorityKeyIdentifier: [UInt8],
        baseNumber: UInt64? = nil,
        freshestCRLURL: String? = nil
    ) {
        self.issuerName = issuerName
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entries = entries
        self.number = number
        self.authorityKeyIdentifier = authorityKeyIdentifier
        self.baseNumber = baseNumber
        self.freshestCRLURL = freshestCRLURL
    }

    public static let authorityKeyIdentifierOID: ASN1ObjectIdentifier = [2, 5, 29, 35]
    public static let crlNumberOID: ASN1ObjectIdentifier = [2, 5, 29, 20]
    public static let deltaCRLIndicatorOID: ASN1ObjectIdentifier = [2, 5, 29, 27]

    /// The DER `TBSCertList` for `algorithm`.
    public func tbsBytes(_ algorithm: Certificate.SignatureAlgorithm) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { tbs in
            try tbs.serialize(1)  // Version v2
            try SignatureAlgorithmIdentifier.serialize(algorithm, into: &tbs)
            tbs.serializeRawBytes(issuerName)
            try tbs.serialize(X509Time(secondsSince1970: thisUpdate))
            try tbs.serialize(X509Time(secondsSince1970: nextUpdate))
            if !entries.isEmpty {
                try tbs.appendConstructedNode(identifier: .sequence) { list in
                    for entry in entries { try list.serialize(entry) }
                }
            }
            try tbs.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { extensions in
                    try serializeExtensions(into: &extensions)
                }
            }
        }
        return coder.serializedBytes
    }

    private func serializeExtensions(into coder: inout DER.Serializer) throws {
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL, … }
        var aki = DER.Serializer()
        aki.appendConstructedNode(identifier: .sequence) { sequence in
            sequence.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                $0.append(contentsOf: authorityKeyIdentifier)
            }
        }
        try CRLExtension.serialize(
            oid: Self.authorityKeyIdentifierOID,
            critical: false,
            value: aki.serializedBytes,
            into: &coder
        )
        var number = DER.Serializer()
        try number.serialize(self.number)
        try CRLExtension.serialize(oid: Self.crlNumberOID, critical: false, value: number.serializedBytes, into: &coder)
        if let baseNumber {
            var base = DER.Serializer()
            try base.serialize(baseNumber)
            try CRLExtension.serialize(
                oid: Self.deltaCRLIndicatorOID,
                critical: true,
                value: base.serializedBytes,
                into: &coder
            )
        }
        if let freshestCRLURL {
            let pointer = try CRLDistributionPoints(urls: [freshestCRLURL], freshest: true).makeCertificateExtension()
            try CRLExtension.serialize(oid: pointer.oid, critical: false, value: Array(pointer.value), into: &coder)
        }
    }

    /// The signed DER `CertificateList` from its TBS bytes and the signature value.
    public static func assemble(tbs: [UInt8], algorithm: Certificate.SignatureAlgorithm, signature: [UInt8]) throws
        -> [UInt8]
    {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { list in
            list.serializeRawBytes(tbs)
            try SignatureAlgorithmIdentifier.serialize(algorithm, into: &list)
            try list.serialize(ASN1BitString(bytes: signature[...]))
        }
        return coder.serializedBytes
    }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }` for the
/// signature algorithms Custos' keys use: parameters absent for ECDSA (RFC 5758 section 3.2) and
/// Ed25519 (RFC 8410 section 3), NULL for RSA PKCS#1 v1.5 (RFC 4055 section 5).
public enum SignatureAlgorithmIdentifier {
    public static func serialize(_ algorithm: Certificate.SignatureAlgorithm, into coder: inout DER.Serializer) throws {
        let (oid, nullParameters): (ASN1ObjectIdentifier, Bool)
        switch algorithm {
        case .ecdsaWithSHA256: (oid, nullParameters) = ([1, 2, 840, 10045, 4, 3, 2], false)
        case .ecdsaWithSHA384: (oid, nullParameters) = ([1, 2, 840, 10045, 4, 3, 3], false)
        case .ecdsaWithSHA512: (oid, nullParameters) = ([1, 2, 840, 10045, 4, 3, 4], false)
        case .sha256WithRSAEncryption: (oid, nullParameters) = ([1, 2, 840, 113_549, 1, 1, 11], true)
        case .sha384WithRSAEncryption: (oid, nullParameters) = ([1, 2, 840, 113_549, 1, 1, 12], true)
        case .sha512WithRSAEncryption: (oid, nullParameters) = ([1, 2, 840, 113_549, 1, 1, 13], true)
        case .ed25519: (oid, nullParameters) = ([1, 3, 101, 112], false)
        default: throw X509EncodingError("no AlgorithmIdentifier for \(algorithm)")
        }
        try coder.appendConstructedNode(identifier: .sequence) { identifier in
            try identifier.serialize(oid)
            if nullParameters { try identifier.serialize(ASN1Null()) }
        }
    }
}
