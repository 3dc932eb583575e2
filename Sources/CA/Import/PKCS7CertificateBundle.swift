import CustosX509
import SwiftASN1
public import X509

/// A "certs-only" PKCS#7 / CMS bundle: SignedData with certificates and no signers (RFC 5652 section
/// 5, the degenerate case RFC 2315 section 9.1 and RFC 8551 section 3.8 use to carry certificates).
///
/// ```
/// ContentInfo ::= SEQUENCE {
///   contentType ContentType,                         -- id-signedData
///   content [0] EXPLICIT ANY DEFINED BY contentType }
///
/// SignedData ::= SEQUENCE {
///   version CMSVersion,                              -- 1
///   digestAlgorithms DigestAlgorithmIdentifiers,     -- empty SET
///   encapContentInfo EncapsulatedContentInfo,        -- id-data, no content
///   certificates [0] IMPLICIT CertificateSet OPTIONAL,
///   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
///   signerInfos SignerInfos }                        -- empty SET
/// ```
public enum PKCS7CertificateBundle {
    static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
    static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]

    /// The DER bundle of `certificates`.
    public static func der(_ certificates: [Certificate]) throws -> [UInt8] {
        try der(encoded: try certificates.map { try derBytes($0) })
    }

    /// The DER bundle of certificates given in DER (as stored: nothing is parsed or encoded again).
    public static func der(encoded certificates: [[UInt8]]) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { contentInfo in
            try contentInfo.serialize(signedData)
            try contentInfo.appendConstructedNode(
                identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
            ) {
                explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { signed in
                    try signed.serialize(1)
                    signed.appendConstructedNode(identifier: .set) { _ in }
                    try signed.appendConstructedNode(identifier: .sequence) { encapsulated in
                        try encapsulated.serialize(data)
                    }
                    // [0] IMPLICIT SET OF: DER sorts the elements by their encoding.
                    let encoded = certificates.sorted { $0.lexicographicallyPrecedes($1) }
                    signed.appendConstructedNode(
                        identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
                    ) {
                        set in
                        for certificate in encoded { set.serializeRawBytes(certificate) }
                    }
                    signed.appendConstructedNode(identifier: .set) { _ in }
                }
            }
        }
        return coder.serializedBytes
    }

    /// The certificates of a PKCS#7 / CMS SignedData (certs-only or signed), in the order given.
    /// Anything but `Certificate` in the certificate set (attribute certificates) is refused.
    public static func certificates(fromDER der: [UInt8]) throws(CAError) -> [Certificate] {
        do {
            let root = try DER.parse(der)
            return try DER.sequence(root, identifier: .sequence) { contentInfo in
                let type = try ASN1ObjectIdentifier(derEncoded: &contentInfo)
                guard type == signedData, let content = contentInfo.next(),
                    content.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                    case .constructed(let wrapped) = content.content, let signed = Array(wrapped).first
                else {
                    throw CAError(.invalidCertificate, "not a PKCS#7 SignedData")
                }
                return try DER.sequence(signed, identifier: .sequence) { fields in
                    _ = try Int(derEncoded: &fields)  // version
                    _ = fields.next()  // digestAlgorithms
                    _ = fields.next()  // encapContentInfo
                    guard let set = fields.next(),
                        set.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                        case .constructed(let nodes) = set.content
                    else { return [] }
                    while fields.next() != nil {}
                    return try nodes.map { try Certificate(derEncoded: $0) }
                }
            }
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(.invalidCertificate, "not a PKCS#7 certificate bundle: \(error)")
        }
    }
}
