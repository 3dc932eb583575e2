/// The asymmetric key algorithms Custos generates in an HSM.
public enum KeyAlgorithm: String, CaseIterable, Sendable, Hashable, Codable {
    case ecP256 = "ec-p256"
    case ecP384 = "ec-p384"
    case ecP521 = "ec-p521"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case rsa4096 = "rsa-4096"
    case ed25519 = "ed25519"

    /// The PKCS#11 key type of both halves.
    public var keyType: KeyType {
        switch self {
        case .ecP256, .ecP384, .ecP521: .ec
        case .rsa2048, .rsa3072, .rsa4096: .rsa
        case .ed25519: .ecEdwards
        }
    }

    /// The key-pair generation mechanism.
    public var generationMechanism: MechanismType {
        switch keyType {
        case .rsa: .rsaPKCSKeyPairGen
        case .ecEdwards: .ecEdwardsKeyPairGen
        default: .ecKeyPairGen
        }
    }

    /// RSA modulus size or curve size in bits.
    public var bits: Int {
        switch self {
        case .ecP256, .ed25519: 256
        case .ecP384: 384
        case .ecP521: 521
        case .rsa2048: 2048
        case .rsa3072: 3072
        case .rsa4096: 4096
        }
    }

    /// DER `CKA_EC_PARAMS`: the named curve's OBJECT IDENTIFIER (RFC 5480 section 2.1.1.1, RFC 8410 section 3).
    public var ecParameters: [UInt8]? {
        switch self {
        case .ecP256: [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]  // 1.2.840.10045.3.1.7
        case .ecP384: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]  // 1.3.132.0.34
        case .ecP521: [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23]  // 1.3.132.0.35
        case .ed25519: [0x06, 0x03, 0x2B, 0x65, 0x70]  // 1.3.101.112
        default: nil
        }
    }

    /// The signature scheme used when a caller names none.
    public var defaultScheme: SignatureScheme {
        switch self {
        case .ecP256: .ecdsa(.sha256)
        case .ecP384: .ecdsa(.sha384)
        case .ecP521: .ecdsa(.sha512)
        case .rsa2048, .rsa3072, .rsa4096: .rsaPKCS1v15(.sha256)
        case .ed25519: .ed25519
        }
    }

    /// Templates for a signing key pair. Every usage attribute is set explicitly, because unset usage
    /// attributes default to permissive on some tokens: the private key signs and does nothing else,
    /// and is token-resident, private, sensitive and never extractable.
    public func signingKeyPairTemplates(label: String, id: [UInt8]) -> (
        public: AttributeTemplate, private: AttributeTemplate
    ) {
        var templates = signingKeyObjectTemplates(label: label, id: id)
        if let parameters = ecParameters {
            templates.public.append(.bytes(.ecParams, parameters))
        } else {
            templates.public.append(.ulong(.modulusBits, UInt(bits)))
            templates.public.append(.bytes(.publicExponent, [0x01, 0x00, 0x01]))
        }
        return templates
    }

    /// The attributes of a signing key pair's two objects without the key values: what generation
    /// and import share (the same protection and usage either way).
    public func signingKeyObjectTemplates(label: String, id: [UInt8]) -> (
        public: AttributeTemplate, private: AttributeTemplate
    ) {
        let publicTemplate: AttributeTemplate = [
            .objectClass(.publicKey), .keyType(keyType), .bool(.token, true), .bool(.private, false),
            .bool(.verify, true), .bool(.encrypt, false), .bool(.wrap, false), .bool(.derive, false),
            .bool(.modifiable, false), .label(label), .id(id),
        ]
        let privateTemplate: AttributeTemplate = [
            .objectClass(.privateKey), .keyType(keyType), .bool(.token, true), .bool(.private, true),
            .bool(.sensitive, true), .bool(.extractable, false), .bool(.sign, true), .bool(.decrypt, false),
            .bool(.unwrap, false), .bool(.derive, false), .bool(.modifiable, false), .label(label), .id(id),
        ]
        return (publicTemplate, privateTemplate)
    }
}
