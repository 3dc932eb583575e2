public import SwiftASN1

/// The content-encryption algorithms an EnvelopedData may use here, all CBC with PKCS#7 padding and
/// the IV as an OCTET STRING parameter: AES (RFC 3565 section 4.1) and triple DES (RFC 3370 section
/// 5.1, which SCEP clients still send).
public enum ContentEncryptionAlgorithm: String, Sendable, Hashable, CaseIterable {
    case aes128CBC = "aes128-cbc"
    case aes192CBC = "aes192-cbc"
    case aes256CBC = "aes256-cbc"
    case desEDE3CBC = "des-ede3-cbc"

    public var oid: ASN1ObjectIdentifier {
        switch self {
        case .aes128CBC: [2, 16, 840, 1, 101, 3, 4, 1, 2]
        case .aes192CBC: [2, 16, 840, 1, 101, 3, 4, 1, 22]
        case .aes256CBC: [2, 16, 840, 1, 101, 3, 4, 1, 42]
        case .desEDE3CBC: [1, 2, 840, 113_549, 3, 7]
        }
    }

    public init?(oid: ASN1ObjectIdentifier) {
        guard let match = Self.allCases.first(where: { $0.oid == oid }) else { return nil }
        self = match
    }

    /// Key length in bytes.
    public var keyLength: Int {
        switch self {
        case .aes128CBC: 16
        case .aes192CBC: 24
        case .aes256CBC: 32
        case .desEDE3CBC: 24
        }
    }

    /// Block (and IV) length in bytes.
    public var blockLength: Int { self == .desEDE3CBC ? 8 : 16 }
}
