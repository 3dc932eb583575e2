internal import CPKCS11

/// A mechanism type (`CK_MECHANISM_TYPE`) with the names of those Custos uses or reports.
public struct MechanismType: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Comparable {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let rsaPKCSKeyPairGen = MechanismType(rawValue: 0x0000)
    public static let rsaPKCS = MechanismType(rawValue: 0x0001)
    public static let rsaX509 = MechanismType(rawValue: 0x0003)
    public static let rsaPKCSOAEP = MechanismType(rawValue: 0x0009)
    public static let rsaPKCSPSS = MechanismType(rawValue: 0x000D)
    public static let sha256RSAPKCS = MechanismType(rawValue: 0x0040)
    public static let sha384RSAPKCS = MechanismType(rawValue: 0x0041)
    public static let sha512RSAPKCS = MechanismType(rawValue: 0x0042)
    public static let sha256RSAPKCSPSS = MechanismType(rawValue: 0x0043)
    public static let sha384RSAPKCSPSS = MechanismType(rawValue: 0x0044)
    public static let sha512RSAPKCSPSS = MechanismType(rawValue: 0x0045)
    public static let sha1 = MechanismType(rawValue: 0x0220)
    public static let sha256 = MechanismType(rawValue: 0x0250)
    public static let sha384 = MechanismType(rawValue: 0x0260)
    public static let sha512 = MechanismType(rawValue: 0x0270)
    public static let sha256HMAC = MechanismType(rawValue: 0x0251)
    public static let genericSecretKeyGen = MechanismType(rawValue: 0x0350)
    public static let ecKeyPairGen = MechanismType(rawValue: 0x1040)
    public static let ecdsa = MechanismType(rawValue: 0x1041)
    public static let ecdsaSHA256 = MechanismType(rawValue: 0x1044)
    public static let ecdsaSHA384 = MechanismType(rawValue: 0x1045)
    public static let ecdsaSHA512 = MechanismType(rawValue: 0x1046)
    public static let ecdh1Derive = MechanismType(rawValue: 0x1050)
    public static let ecEdwardsKeyPairGen = MechanismType(rawValue: 0x1055)
    public static let eddsa = MechanismType(rawValue: 0x1057)
    public static let des3KeyGen = MechanismType(rawValue: 0x0131)
    public static let des3CBCPad = MechanismType(rawValue: 0x0136)
    public static let aesKeyGen = MechanismType(rawValue: 0x1080)
    public static let aesECB = MechanismType(rawValue: 0x1081)
    public static let aesCBC = MechanismType(rawValue: 0x1082)
    public static let aesCBCPad = MechanismType(rawValue: 0x1085)
    public static let aesCTR = MechanismType(rawValue: 0x1086)
    public static let aesGCM = MechanismType(rawValue: 0x1087)
    public static let aesCMAC = MechanismType(rawValue: 0x108A)
    public static let aesKeyWrap = MechanismType(rawValue: 0x2109)
    public static let aesKeyWrapPad = MechanismType(rawValue: 0x210A)

    static let names: [UInt: String] = [
        0x0000: "CKM_RSA_PKCS_KEY_PAIR_GEN", 0x0001: "CKM_RSA_PKCS", 0x0003: "CKM_RSA_X_509",
        0x0005: "CKM_MD5_RSA_PKCS", 0x0006: "CKM_SHA1_RSA_PKCS", 0x0009: "CKM_RSA_PKCS_OAEP",
        0x000D: "CKM_RSA_PKCS_PSS", 0x000E: "CKM_SHA1_RSA_PKCS_PSS", 0x0010: "CKM_DSA_KEY_PAIR_GEN",
        0x0011: "CKM_DSA", 0x0012: "CKM_DSA_SHA1", 0x0013: "CKM_DSA_SHA224", 0x0014: "CKM_DSA_SHA256",
        0x0015: "CKM_DSA_SHA384", 0x0016: "CKM_DSA_SHA512", 0x0040: "CKM_SHA256_RSA_PKCS",
        0x0041: "CKM_SHA384_RSA_PKCS", 0x0042: "CKM_SHA512_RSA_PKCS", 0x0043: "CKM_SHA256_RSA_PKCS_PSS",
        0x0044: "CKM_SHA384_RSA_PKCS_PSS", 0x0045: "CKM_SHA512_RSA_PKCS_PSS", 0x0046: "CKM_SHA224_RSA_PKCS",
        0x0047: "CKM_SHA224_RSA_PKCS_PSS", 0x0120: "CKM_DES_KEY_GEN", 0x0121: "CKM_DES_ECB",
        0x0122: "CKM_DES_CBC", 0x0125: "CKM_DES_CBC_PAD", 0x0131: "CKM_DES3_KEY_GEN", 0x0132: "CKM_DES3_ECB",
        0x0133: "CKM_DES3_CBC", 0x0136: "CKM_DES3_CBC_PAD", 0x0138: "CKM_DES3_CMAC", 0x0210: "CKM_MD5",
        0x0220: "CKM_SHA_1", 0x0221: "CKM_SHA_1_HMAC", 0x0255: "CKM_SHA224", 0x0256: "CKM_SHA224_HMAC",
        0x0250: "CKM_SHA256", 0x0251: "CKM_SHA256_HMAC", 0x0260: "CKM_SHA384", 0x0261: "CKM_SHA384_HMAC",
        0x0270: "CKM_SHA512", 0x0271: "CKM_SHA512_HMAC", 0x0211: "CKM_MD5_HMAC",
        0x0350: "CKM_GENERIC_SECRET_KEY_GEN", 0x0360: "CKM_CONCATENATE_BASE_AND_KEY",
        0x0362: "CKM_CONCATENATE_DATA_AND_BASE", 0x0363: "CKM_CONCATENATE_BASE_AND_DATA",
        0x1040: "CKM_EC_KEY_PAIR_GEN", 0x1041: "CKM_ECDSA", 0x1042: "CKM_ECDSA_SHA1",
        0x1043: "CKM_ECDSA_SHA224", 0x1044: "CKM_ECDSA_SHA256", 0x1045: "CKM_ECDSA_SHA384",
        0x1046: "CKM_ECDSA_SHA512", 0x1050: "CKM_ECDH1_DERIVE", 0x1055: "CKM_EC_EDWARDS_KEY_PAIR_GEN",
        0x1057: "CKM_EDDSA", 0x1080: "CKM_AES_KEY_GEN", 0x1081: "CKM_AES_ECB", 0x1082: "CKM_AES_CBC",
        0x1085: "CKM_AES_CBC_PAD", 0x1086: "CKM_AES_CTR", 0x1087: "CKM_AES_GCM", 0x108A: "CKM_AES_CMAC",
        0x1104: "CKM_DES_ECB_ENCRYPT_DATA", 0x1105: "CKM_DES_CBC_ENCRYPT_DATA",
        0x1106: "CKM_DES3_ECB_ENCRYPT_DATA", 0x1107: "CKM_DES3_CBC_ENCRYPT_DATA",
        0x1108: "CKM_AES_ECB_ENCRYPT_DATA", 0x1109: "CKM_AES_CBC_ENCRYPT_DATA", 0x2000: "CKM_DSA_PARAMETER_GEN",
        0x2001: "CKM_DH_PKCS_PARAMETER_GEN", 0x0020: "CKM_DH_PKCS_KEY_PAIR_GEN", 0x0021: "CKM_DH_PKCS_DERIVE",
        0x2109: "CKM_AES_KEY_WRAP", 0x210A: "CKM_AES_KEY_WRAP_PAD", 0x0370: "CKM_SSL3_PRE_MASTER_KEY_GEN",
    ]

    /// The specification's name (`CKM_ECDSA`), or `CKM_VENDOR_…`/hex for codes without one here.
    public var name: String {
        if let name = Self.names[rawValue] { return name }
        if rawValue >= 0x8000_0000 { return "CKM_VENDOR_DEFINED+0x" + String(rawValue - 0x8000_0000, radix: 16) }
        return "0x" + String(rawValue, radix: 16)
    }

    /// Parses a name as printed by `name` (`CKM_ECDSA`) or a hex code (`0x1041`).
    public init?(name: String) {
        if let entry = Self.names.first(where: { $0.value == name }) {
            self.init(rawValue: entry.key)
        } else if name.hasPrefix("0x"), let value = UInt(name.dropFirst(2), radix: 16) {
            self.init(rawValue: value)
        } else {
            return nil
        }
    }

    public var description: String { name }
    public static func < (lhs: MechanismType, rhs: MechanismType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// `CK_MECHANISM_INFO` flags.
public struct MechanismFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let hardware = MechanismFlags(rawValue: 0x0000_0001)
    public static let encrypt = MechanismFlags(rawValue: 0x0000_0100)
    public static let decrypt = MechanismFlags(rawValue: 0x0000_0200)
    public static let digest = MechanismFlags(rawValue: 0x0000_0400)
    public static let sign = MechanismFlags(rawValue: 0x0000_0800)
    public static let signRecover = MechanismFlags(rawValue: 0x0000_1000)
    public static let verify = MechanismFlags(rawValue: 0x0000_2000)
    public static let verifyRecover = MechanismFlags(rawValue: 0x0000_4000)
    public static let generate = MechanismFlags(rawValue: 0x0000_8000)
    public static let generateKeyPair = MechanismFlags(rawValue: 0x0001_0000)
    public static let wrap = MechanismFlags(rawValue: 0x0002_0000)
    public static let unwrap = MechanismFlags(rawValue: 0x0004_0000)
    public static let derive = MechanismFlags(rawValue: 0x0008_0000)
    public static let ecFp = MechanismFlags(rawValue: 0x0010_0000)
    public static let ecNamedCurve = MechanismFlags(rawValue: 0x0080_0000)
    public static let ecUncompressed = MechanismFlags(rawValue: 0x0100_0000)
    public static let ecCompressed = MechanismFlags(rawValue: 0x0200_0000)

    private static let named: [(MechanismFlags, String)] = [
        (.hardware, "hw"), (.encrypt, "encrypt"), (.decrypt, "decrypt"), (.digest, "digest"), (.sign, "sign"),
        (.signRecover, "sign-recover"), (.verify, "verify"), (.verifyRecover, "verify-recover"),
        (.generate, "generate"), (.generateKeyPair, "generate-key-pair"), (.wrap, "wrap"), (.unwrap, "unwrap"),
        (.derive, "derive"), (.ecFp, "ec-fp"), (.ecNamedCurve, "ec-named-curve"),
        (.ecUncompressed, "ec-uncompressed"), (.ecCompressed, "ec-compressed"),
    ]

    /// The set flags by short name, in a fixed order (`["sign", "verify"]`).
    public var names: [String] { Self.named.filter { contains($0.0) }.map(\.1) }

    /// Parses names as produced by `names`; nil for an unknown name.
    public init?(names: [String]) {
        var flags = MechanismFlags()
        for name in names {
            guard let flag = Self.named.first(where: { $0.1 == name })?.0 else { return nil }
            flags.insert(flag)
        }
        self = flags
    }
}

/// Key sizes and capabilities of a mechanism on a token.
public struct MechanismInfo: Sendable, Hashable {
    public var minKeySize: Int
    public var maxKeySize: Int
    public var flags: MechanismFlags
}

/// A mechanism with its parameters, as passed to `C_SignInit`, `C_EncryptInit`, etc.
public struct Mechanism: Sendable, Hashable {
    /// Mechanism parameters. Parameters with pointers are laid out only for the duration of a call.
    public enum Parameter: Sendable, Hashable {
        case none
        case bytes([UInt8])
        /// `CK_RSA_PKCS_PSS_PARAMS`: hash mechanism, MGF (`CKG_MGF1_SHA256` …) and salt length.
        case pss(hash: MechanismType, mgf: UInt, saltLength: Int)
        /// `CK_RSA_PKCS_OAEP_PARAMS` with no label source data.
        case oaep(hash: MechanismType, mgf: UInt)
        /// `CK_GCM_PARAMS`.
        case gcm(iv: [UInt8], additionalData: [UInt8], tagBits: Int)
    }

    public var type: MechanismType
    public var parameter: Parameter

    public init(_ type: MechanismType, _ parameter: Parameter = .none) {
        self.type = type
        self.parameter = parameter
    }

    /// Lays the mechanism out as a C struct for the duration of `body`.
    func withUnsafeMechanism<R>(_ body: (UnsafeMutablePointer<CK_MECHANISM>) throws(PKCS11Error) -> R)
        throws(PKCS11Error) -> R
    {
        var mechanism = CK_MECHANISM(mechanism: type.rawValue, pParameter: nil, ulParameterLen: 0)
        switch parameter {
        case .none:
            return try body(&mechanism)
        case .bytes(var bytes):
            return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(PKCS11Error) -> R in
                mechanism.pParameter = UnsafeMutableRawPointer(buffer.baseAddress)
                mechanism.ulParameterLen = CK_ULONG(buffer.count)
                return try body(&mechanism)
            }
        case .pss(let hash, let mgf, let saltLength):
            var params = CK_RSA_PKCS_PSS_PARAMS(hashAlg: hash.rawValue, mgf: mgf, sLen: CK_ULONG(saltLength))
            return try withUnsafeMutablePointer(to: &params) { (pointer) throws(PKCS11Error) -> R in
                mechanism.pParameter = UnsafeMutableRawPointer(pointer)
                mechanism.ulParameterLen = CK_ULONG(MemoryLayout<CK_RSA_PKCS_PSS_PARAMS>.size)
                return try body(&mechanism)
            }
        case .oaep(let hash, let mgf):
            var params = CK_RSA_PKCS_OAEP_PARAMS(
                hashAlg: hash.rawValue,
                mgf: mgf,
                source: 1 /* CKZ_DATA_SPECIFIED */,
                pSourceData: nil,
                ulSourceDataLen: 0
            )
            return try withUnsafeMutablePointer(to: &params) { (pointer) throws(PKCS11Error) -> R in
                mechanism.pParameter = UnsafeMutableRawPointer(pointer)
                mechanism.ulParameterLen = CK_ULONG(MemoryLayout<CK_RSA_PKCS_OAEP_PARAMS>.size)
                return try body(&mechanism)
            }
        case .gcm(var iv, var additionalData, let tagBits):
            return try iv.withUnsafeMutableBufferPointer { (ivBuffer) throws(PKCS11Error) -> R in
                try additionalData.withUnsafeMutableBufferPointer { (aadBuffer) throws(PKCS11Error) -> R in
                    var params = CK_GCM_PARAMS(
                        pIv: ivBuffer.baseAddress,
                        ulIvLen: CK_ULONG(ivBuffer.count),
                        ulIvBits: CK_ULONG(ivBuffer.count * 8),
                        pAAD: aadBuffer.baseAddress,
                        ulAADLen: CK_ULONG(aadBuffer.count),
                        ulTagBits: CK_ULONG(tagBits)
                    )
                    return try withUnsafeMutablePointer(to: &params) { (pointer) throws(PKCS11Error) -> R in
                        mechanism.pParameter = UnsafeMutableRawPointer(pointer)
                        mechanism.ulParameterLen = CK_ULONG(MemoryLayout<CK_GCM_PARAMS>.size)
                        return try body(&mechanism)
                    }
                }
            }
        }
    }
}

/// Mask generation functions for PSS and OAEP (`CK_RSA_PKCS_MGF_TYPE`).
public enum MGF {
    /// MGF1 with SHA-1: OAEP with SHA-1 is what SoftHSM 2.6 offers (OAEP's security does not rest on
    /// collision resistance, so it is still sound).
    public static let mgf1SHA1: UInt = 0x0001
    public static let mgf1SHA256: UInt = 0x0002
    public static let mgf1SHA384: UInt = 0x0003
    public static let mgf1SHA512: UInt = 0x0004
}
