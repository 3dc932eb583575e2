import CustosX509
public import Foundation
public import PKCS11
public import SwiftASN1
public import X509

/// Encodes a detached CMS SignedData (RFC 5652) with one signer identified by issuer and serial
/// number, the signer's certificate chain, and the signed attributes content-type, message-digest
/// and signing-time. Pure encoding: the signature over `signedAttributes` comes from the HSM.
///
/// Algorithm identifiers follow RFC 5754 (SHA-2, parameters absent), RFC 5758 (ECDSA), RFC 3370 and
/// RFC 4056 (RSA PKCS#1 v1.5 and PSS) and RFC 8419 (Ed25519 over the signed attributes, SHA-512 digest).
public struct CMSSignedData: Sendable {
    /// How the signer signs, which fixes the digest and signature algorithm identifiers.
    public let scheme: SignatureScheme
    /// The digest of the content (`messageDigest` attribute), made with `digestAlgorithm`.
    public let messageDigest: [UInt8]
    public let signingTime: Date
    /// Leaf (the signer) first.
    public let chain: [Certificate]

    /// The hash of the content and of the signed attributes: the scheme's, or SHA-512 for Ed25519.
    public static func digestAlgorithm(for scheme: SignatureScheme) -> HashAlgorithm { scheme.hash ?? .sha512 }

    public init(scheme: SignatureScheme, messageDigest: [UInt8], signingTime: Date, chain: [Certificate]) {
        self.scheme = scheme
        self.messageDigest = messageDigest
        self.signingTime = signingTime
        self.chain = chain
    }

    /// The DER `SET OF Attribute` the signer signs (RFC 5652 §5.4: tagged SET, not the `[0]` form).
    public func signedAttributes() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serializeSetOf(try attributes(), identifier: .set)
        return serializer.serializedBytes
    }

    /// The `ContentInfo` holding the SignedData, DER. `unsignedAttributes` are whole DER `Attribute`s
    /// (an RFC 3161 timestamp token goes there).
    public func contentInfo(signature: [UInt8], unsignedAttributes: [[UInt8]] = []) throws -> [UInt8] {
        guard let leaf = chain.first else { throw SigningError(.noCertificate, "a signer certificate is required") }
        let signerID = try Self.issuerAndSerialNumber(of: leaf)
        let digestAlgorithm = Self.digestAlgorithmIdentifier(Self.digestAlgorithm(for: scheme))
        let signatureAlgorithm = try signatureAlgorithmIdentifier()
        let certificates = try chain.map { certificate in
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return RawDER(serializer.serializedBytes)
        }
        let attributes = try attributes()
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { contentInfo in
            try contentInfo.serialize(ObjectIdentifiers.signedData)
            try contentInfo.appendConstructedNode(identifier: .context(0)) { explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { signedData in
                    try signedData.serialize(1)  // CMSVersion: issuerAndSerialNumber, id-data content
                    try signedData.serializeSetOf([digestAlgorithm])
                    try signedData.appendConstructedNode(identifier: .sequence) { encapsulated in
                        try encapsulated.serialize(ObjectIdentifiers.data)  // detached: no eContent
                    }
                    try signedData.serializeSetOf(certificates, identifier: .context(0))
                    try signedData.appendConstructedNode(identifier: .set) { signerInfos in
                        try signerInfos.appendConstructedNode(identifier: .sequence) { signerInfo in
                            try signerInfo.serialize(1)
                            signerInfo.serializeRawBytes(signerID)
                            try signerInfo.serialize(digestAlgorithm)
                            try signerInfo.serializeSetOf(attributes, identifier: .context(0))
                            try signerInfo.serialize(signatureAlgorithm)
                            try signerInfo.serialize(ASN1OctetString(contentBytes: signature[...]))
                            if !unsignedAttributes.isEmpty {
                                try signerInfo.serializeSetOf(
                                    unsignedAttributes.map(RawDER.init),
                                    identifier: .context(1)
                                )
                            }
                        }
                    }
                }
            }
        }
        return serializer.serializedBytes
    }

    /// An `Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }` with one value, DER.
    public static func attribute(_ type: ASN1ObjectIdentifier, value: [UInt8]) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { attribute in
            try attribute.serialize(type)
            try attribute.serializeSetOf([RawDER(value)])
        }
        return serializer.serializedBytes
    }

    /// `AlgorithmIdentifier` of a SHA-2 hash, parameters absent (RFC 5754 §2).
    public static func digestAlgorithmIdentifier(_ hash: HashAlgorithm) -> RawDER {
        var serializer = DER.Serializer()
        try? serializer.appendConstructedNode(identifier: .sequence) { try $0.serialize(ObjectIdentifiers.hash(hash)) }
        return RawDER(serializer.serializedBytes)
    }

    private func attributes() throws -> [RawDER] {
        var contentType = DER.Serializer()
        try contentType.serialize(ObjectIdentifiers.data)
        var digest = DER.Serializer()
        try digest.serialize(ASN1OctetString(contentBytes: messageDigest[...]))
        return [
            RawDER(try Self.attribute(ObjectIdentifiers.contentType, value: contentType.serializedBytes)),
            RawDER(try Self.attribute(ObjectIdentifiers.messageDigest, value: digest.serializedBytes)),
            RawDER(try Self.attribute(ObjectIdentifiers.signingTime, value: try Self.time(signingTime))),
        ]
    }

    private func signatureAlgorithmIdentifier() throws -> RawDER {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { algorithm in
            switch scheme {
            case .ecdsa(let hash):
                try algorithm.serialize(ObjectIdentifiers.ecdsa(hash))
            case .rsaPKCS1v15(let hash):
                try algorithm.serialize(ObjectIdentifiers.rsaPKCS1(hash))
                try algorithm.serialize(ASN1Null())
            case .rsaPSS(let hash, let saltLength):
                try algorithm.serialize(ObjectIdentifiers.rsaPSS)
                try algorithm.appendConstructedNode(identifier: .sequence) { parameters in
                    try parameters.appendConstructedNode(identifier: .context(0)) {
                        try $0.serialize(Self.digestAlgorithmIdentifier(hash))
                    }
                    try parameters.appendConstructedNode(identifier: .context(1)) { explicit in
                        try explicit.appendConstructedNode(identifier: .sequence) { mgf in
                            try mgf.serialize(ObjectIdentifiers.mgf1)
                            try mgf.serialize(Self.digestAlgorithmIdentifier(hash))
                        }
                    }
                    try parameters.appendConstructedNode(identifier: .context(2)) { try $0.serialize(saltLength) }
                }
            case .ed25519:
                try algorithm.serialize(ObjectIdentifiers.ed25519)
            }
        }
        return RawDER(serializer.serializedBytes)
    }

    /// The certificate's issuer and serial number exactly as it encodes them (the CMS codec's).
    static func issuerAndSerialNumber(of certificate: Certificate) throws -> [UInt8] {
        do { return try IssuerAndSerialNumber(certificate: certificate).der } catch {
            throw SigningError(.invalidCertificate, "the certificate's structure is not X.509")
        }
    }

    /// RFC 5652 §11.3: UTCTime for 1950 through 2049, GeneralizedTime otherwise.
    static func time(_ date: Date) throws -> [UInt8] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let (year, month, day) = (parts.year!, parts.month!, parts.day!)
        let (hour, minute, second) = (parts.hour!, parts.minute!, parts.second!)
        var serializer = DER.Serializer()
        if (1950...2049).contains(year) {
            try serializer.serialize(
                UTCTime(year: year, month: month, day: day, hours: hour, minutes: minute, seconds: second)
            )
        } else {
            try serializer.serialize(
                GeneralizedTime(
                    year: year,
                    month: month,
                    day: day,
                    hours: hour,
                    minutes: minute,
                    seconds: second,
                    fractionalSeconds: 0
                )
            )
        }
        return serializer.serializedBytes
    }
}

/// Bytes that are already one DER element, for building SETs whose members are encoded elsewhere.
public struct RawDER: DERSerializable, Sendable, Hashable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func serialize(into coder: inout DER.Serializer) throws { coder.serializeRawBytes(bytes) }
}

extension ASN1Identifier {
    static func context(_ tag: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: tag, tagClass: .contextSpecific)
    }
}

/// The object identifiers CMS code signing and RFC 3161 timestamps use.
public enum ObjectIdentifiers {
    public static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    public static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
    public static let contentType: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 3]
    public static let messageDigest: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 4]
    public static let signingTime: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 5]
    /// RFC 3161 appendix A: the unsigned attribute that carries a timestamp token.
    public static let timeStampToken: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 2, 14]
    /// The eContentType of a timestamp token (TSTInfo).
    public static let tstInfo: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 16, 1, 4]
    static let rsaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 10]
    static let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 8]
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]

    public static func hash(_ hash: HashAlgorithm) -> ASN1ObjectIdentifier {
        switch hash {
        case .sha256: [2, 16, 840, 1, 101, 3, 4, 2, 1]
        case .sha384: [2, 16, 840, 1, 101, 3, 4, 2, 2]
        case .sha512: [2, 16, 840, 1, 101, 3, 4, 2, 3]
        }
    }

    static func ecdsa(_ hash: HashAlgorithm) -> ASN1ObjectIdentifier {
        switch hash {
        case .sha256: [1, 2, 840, 10045, 4, 3, 2]
        case .sha384: [1, 2, 840, 10045, 4, 3, 3]
        case .sha512: [1, 2, 840, 10045, 4, 3, 4]
        }
    }

    static func rsaPKCS1(_ hash: HashAlgorithm) -> ASN1ObjectIdentifier {
        switch hash {
        case .sha256: [1, 2, 840, 113_549, 1, 1, 11]
        case .sha384: [1, 2, 840, 113_549, 1, 1, 12]
        case .sha512: [1, 2, 840, 113_549, 1, 1, 13]
        }
    }
}
