public import SwiftASN1

/// The object identifiers CMS messages use (RFC 5652 section 14, RFC 3565, RFC 3370, RFC 5754).
public enum CMSObjectIdentifiers {
    public static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    public static let signedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 2]
    public static let envelopedData: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 3]

    public static let contentType: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 3]
    public static let messageDigest: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 4]
    public static let signingTime: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 5]

    /// RSAES-PKCS1-v1_5 key transport (RFC 3370 section 4.2.1).
    public static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 1]
}
