public import SwiftASN1

/// Object identifiers of CMP (RFC 9810 appendix F, RFC 9480, RFC 9481) and CRMF (RFC 4211).
public enum CMPObjectIdentifiers {
    // id-it = 1.3.6.1.5.5.7.4: InfoTypeAndValue types.
    public static let implicitConfirm: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 13]
    public static let confirmWaitTime: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 14]
    public static let caCerts: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 17]
    public static let rootCaKeyUpdate: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 18]
    public static let certReqTemplate: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 19]
    public static let rootCaCert: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 20]
    public static let crlStatusList: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 22]
    public static let crls: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 23]
    /// id-regCtrl-oldCertID: the certificate a kur replaces (RFC 4211 section 6.5).
    public static let oldCertID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 5, 1, 5]
    /// id-regCtrl-algId and id-regCtrl-rsaKeyLen: key specs in a certificate request template (RFC 9480).
    public static let algorithmControl: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 5, 1, 11]
    public static let rsaKeyLengthControl: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 5, 1, 12]
    /// id-PasswordBasedMac (RFC 4211 section 4.4).
    public static let passwordBasedMAC: ASN1ObjectIdentifier = [1, 2, 840, 113_533, 7, 66, 13]
    /// id-PBMAC1 and id-PBKDF2 (RFC 8018).
    public static let pbmac1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 14]
    public static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 12]
    /// id-ce-cRLReasons in a revocation request's crlEntryDetails.
    public static let crlReason: ASN1ObjectIdentifier = [2, 5, 29, 21]
    /// id-kp-cmcRA: a registration authority's certificate (RFC 6402).
    public static let cmcRA: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 3, 28]
}
