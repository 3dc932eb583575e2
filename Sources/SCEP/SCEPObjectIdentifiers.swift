import SwiftASN1

/// The SCEP signed attributes (RFC 8894 section 3.2.1), under id-VeriSign pki attributes.
enum SCEPObjectIdentifiers {
    static let messageType: ASN1ObjectIdentifier = [2, 16, 840, 1, 113_733, 1, 9, 2]
    static let pkiStatus: ASN1ObjectIdentifier = [2, 16, 840, 1, 113_733, 1, 9, 3]
    static let failInfo: ASN1ObjectIdentifier = [2, 16, 840, 1, 113_733, 1, 9, 4]
    static let senderNonce: ASN1ObjectIdentifier = [2, 16, 840, 1, 113_733, 1, 9, 5]
    static let recipientNonce: ASN1ObjectIdentifier = [2, 16, 840, 1, 113_733, 1, 9, 6]
    static let transactionID: ASN1ObjectIdentifier = [2, 16, 840, 1, 113_733, 1, 9, 7]
    /// PKCS#9 challengePassword in a CSR's attributes (RFC 2985 section 5.4.1).
    static let challengePassword: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 7]
}
