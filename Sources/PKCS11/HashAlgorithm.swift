import Crypto

/// Hash functions for signatures. Hashing happens on the host: tokens such as SoftHSM lack the
/// combined mechanisms (`CKM_ECDSA_SHA256`), and hashing locally also lets callers send digests.
public enum HashAlgorithm: String, CaseIterable, Sendable, Hashable, Codable {
    case sha256, sha384, sha512

    /// Digest length in bytes.
    public var byteCount: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// The PKCS#11 digest mechanism (used in PSS and OAEP parameters).
    public var mechanism: MechanismType {
        switch self {
        case .sha256: .sha256
        case .sha384: .sha384
        case .sha512: .sha512
        }
    }

    /// MGF1 with this hash.
    public var mgf1: UInt {
        switch self {
        case .sha256: MGF.mgf1SHA256
        case .sha384: MGF.mgf1SHA384
        case .sha512: MGF.mgf1SHA512
        }
    }

    /// DER prefix of a PKCS#1 v1.5 `DigestInfo` (RFC 8017 section 9.2, note 1).
    var digestInfoPrefix: [UInt8] {
        switch self {
        case .sha256:
            [
                0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
                0x04, 0x20,
            ]
        case .sha384:
            [
                0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00,
                0x04, 0x30,
            ]
        case .sha512:
            [
                0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00,
                0x04, 0x40,
            ]
        }
    }

    /// The digest of `data`.
    public func digest(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha384: Array(SHA384.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }
}
