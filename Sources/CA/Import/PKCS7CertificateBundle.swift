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

    /// The DER bundle of certificates given in DER (as stored: nothing is parsed or encoded again), written
    /// by the CMS codec (a SignedData without content or signers).
    public static func der(encoded certificates: [[UInt8]]) throws -> [UInt8] {
        try CMSSignedDataMessage(content: nil, certificates: certificates).der()
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
