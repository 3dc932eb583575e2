import Crypto
import SwiftASN1

/// A PKCS#12 file (RFC 7292) holding a certificate chain and one private key encrypted with PBES2
/// (PBKDF2 with HMAC-SHA-256, AES-256-CBC; RFC 8018), with an HMAC-SHA-256 integrity MAC: what
/// `openssl pkcs12 -export` makes by default in OpenSSL 3, and what Python's `cryptography`, Windows
/// and Java read.
///
/// The key arrives encrypted already (the HSM wrapped it, `C_WrapKey` with `CKM_AES_CBC_PAD` under the
/// PBKDF2 key): this writer never sees a private key.
///
/// ```
/// PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo          -- each id-data here
/// SafeContents ::= SEQUENCE OF SafeBag
/// SafeBag ::= SEQUENCE { bagId OBJECT IDENTIFIER, bagValue [0] EXPLICIT ANY,
///                        bagAttributes SET OF PKCS12Attribute OPTIONAL }
/// CertBag ::= SEQUENCE { certId OBJECT IDENTIFIER, certValue [0] EXPLICIT OCTET STRING }
/// EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }
/// PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
/// PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, keyLength INTEGER OPTIONAL,
///                              prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
/// MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
/// ```
public enum PKCS12Writer {
    /// A private key as PBES2 encrypted it: the ciphertext of its PKCS#8 `PrivateKeyInfo` under
    /// AES-256-CBC with `iv`, the key being PBKDF2-HMAC-SHA-256(password, `salt`, `iterations`, 32).
    public struct EncryptedKey: Sendable {
        public var ciphertext: [UInt8]
        public var salt: [UInt8]
        public var iterations: Int
        public var iv: [UInt8]

        public init(ciphertext: [UInt8], salt: [UInt8], iterations: Int, iv: [UInt8]) {
            self.ciphertext = ciphertext
            self.salt = salt
            self.iterations = iterations
            self.iv = iv
        }
    }

    static let data: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 7, 1]
    static let certBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 3]
    static let shroudedKeyBag: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 12, 10, 1, 2]
    static let x509Certificate: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 22, 1]
    static let localKeyID: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 21]
    static let friendlyName: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 9, 20]
    static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 13]
    static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 12]
    static let hmacWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 2, 9]
    static let aes256CBC: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 1, 42]
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]

    /// The DER PFX with `certificates` (DER, the key's own first) and `key`, its MAC keyed from
    /// `password` with `macSalt` and `macIterations`. `name` becomes the friendly name of both bags.
    public static func pfx(
        certificates: [[UInt8]],
        key: EncryptedKey,
        password: String,
        macSalt: [UInt8],
        macIterations: Int,
        name: String? = nil
    ) throws -> [UInt8] {
        guard let leaf = certificates.first else {
            throw X509EncodingError("a PKCS#12 file needs the key's certificate")
        }
        // The local key id pairs the key with its certificate (a hash of the certificate, as OpenSSL does).
        let keyID = Array(Insecure.SHA1.hash(data: leaf))
        let certificateBags = try der { contents in
            try contents.appendConstructedNode(identifier: .sequence) { safeContents in
                for (index, certificate) in certificates.enumerated() {
                    try bag(certBag, in: &safeContents, keyID: index == 0 ? keyID : nil, name: index == 0 ? name : nil)
                    {
                        value in
                        try value.appendConstructedNode(identifier: .sequence) { bag in
                            try bag.serialize(x509Certificate)
                            try bag.appendConstructedNode(identifier: .explicit(0)) { explicit in
                                try explicit.serialize(ASN1OctetString(contentBytes: certificate[...]))
                            }
                        }
                    }
                }
            }
        }
        let keyBags = try der { contents in
            try contents.appendConstructedNode(identifier: .sequence) { safeContents in
                try bag(shroudedKeyBag, in: &safeContents, keyID: keyID, name: name) { value in
                    try encryptedPrivateKeyInfo(key, into: &value)
                }
            }
        }
        let authenticatedSafe = try der { safe in
            try safe.appendConstructedNode(identifier: .sequence) { sequence in
                for contents in [certificateBags, keyBags] {
                    try sequence.appendConstructedNode(identifier: .sequence) { contentInfo in
                        try contentInfo.serialize(data)
                        try contentInfo.appendConstructedNode(identifier: .explicit(0)) { explicit in
                            try explicit.serialize(ASN1OctetString(contentBytes: contents[...]))
                        }
                    }
                }
            }
        }
        var macKey = PKCS12KeyDerivation.derive(
            password: password,
            salt: macSalt,
            iterations: macIterations,
            id: PKCS12KeyDerivation.integrityKey,
            count: 32
        )
        let mac = Array(HMAC<SHA256>.authenticationCode(for: authenticatedSafe, using: SymmetricKey(data: macKey)))
        for index in macKey.indices { macKey[index] = 0 }
        return try der { pfx in
            try pfx.appendConstructedNode(identifier: .sequence) { sequence in
                try sequence.serialize(3)
                try sequence.appendConstructedNode(identifier: .sequence) { contentInfo in
                    try contentInfo.serialize(data)
                    try contentInfo.appendConstructedNode(identifier: .explicit(0)) { explicit in
                        try explicit.serialize(ASN1OctetString(contentBytes: authenticatedSafe[...]))
                    }
                }
                try sequence.appendConstructedNode(identifier: .sequence) { macData in
                    try macData.appendConstructedNode(identifier: .sequence) { digestInfo in
                        try digestInfo.appendConstructedNode(identifier: .sequence) { algorithm in
                            try algorithm.serialize(sha256)
                            try algorithm.serialize(ASN1Null())
                        }
                        try digestInfo.serialize(ASN1OctetString(contentBytes: mac[...]))
                    }
                    try macData.serialize(ASN1OctetString(contentBytes: macSalt[...]))
                    try macData.serialize(macIterations)
                }
            }
        }
    }

    /// `EncryptedPrivateKeyInfo` with PBES2 parameters (RFC 8018 appendix A.4, C).
    static func encryptedPrivateKeyInfo(_ key: EncryptedKey, into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { info in
            try info.appendConstructedNode(identifier: .sequence) { algorithm in
                try algorithm.serialize(pbes2)
                try algorithm.appendConstructedNode(identifier: .sequence) { parameters in
                    try parameters.appendConstructedNode(identifier: .sequence) { kdf in
                        try kdf.serialize(pbkdf2)
                        try kdf.appendConstructedNode(identifier: .sequence) { pbkdf2Parameters in
                            try pbkdf2Parameters.serialize(ASN1OctetString(contentBytes: key.salt[...]))
                            try pbkdf2Parameters.serialize(key.iterations)
                            try pbkdf2Parameters.serialize(32)
                            try pbkdf2Parameters.appendConstructedNode(identifier: .sequence) { prf in
                                try prf.serialize(hmacWithSHA256)
                                try prf.serialize(ASN1Null())
                            }
                        }
                    }
                    try parameters.appendConstructedNode(identifier: .sequence) { scheme in
                        try scheme.serialize(aes256CBC)
                        try scheme.serialize(ASN1OctetString(contentBytes: key.iv[...]))
                    }
                }
            }
            try info.serialize(ASN1OctetString(contentBytes: key.ciphertext[...]))
        }
    }

    /// A SafeBag of `type` whose value `body` writes, with its attributes.
    private static func bag(
        _ type: ASN1ObjectIdentifier,
        in coder: inout DER.Serializer,
        keyID: [UInt8]?,
        name: String?,
        _ body: (inout DER.Serializer) throws -> Void
    ) throws {
        try coder.appendConstructedNode(identifier: .sequence) { bag in
            try bag.serialize(type)
            try bag.appendConstructedNode(identifier: .explicit(0)) { explicit in try body(&explicit) }
            guard keyID != nil || name != nil else { return }
            var encoded: [[UInt8]] = []
            if let name {
                var utf16: [UInt8] = []
                for unit in name.utf16 { utf16 += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
                encoded.append(
                    try attribute(friendlyName, ASN1BMPString(contentBytes: utf16[...]))
                )
            }
            if let keyID { encoded.append(try attribute(localKeyID, ASN1OctetString(contentBytes: keyID[...]))) }
            // DER orders a SET OF by the elements' encodings.
            bag.appendConstructedNode(identifier: .set) { attributes in
                for element in encoded.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    attributes.serializeRawBytes(element)
                }
            }
        }
    }

    /// `PKCS12Attribute ::= SEQUENCE { attrId OBJECT IDENTIFIER, attrValues SET OF ANY }` with one value.
    private static func attribute(_ type: ASN1ObjectIdentifier, _ value: some DERSerializable) throws -> [UInt8] {
        try der { coder in
            try coder.appendConstructedNode(identifier: .sequence) { attribute in
                try attribute.serialize(type)
                try attribute.appendConstructedNode(identifier: .set) { values in try values.serialize(value) }
            }
        }
    }

    private static func der(_ body: (inout DER.Serializer) throws -> Void) throws -> [UInt8] {
        var coder = DER.Serializer()
        try body(&coder)
        return coder.serializedBytes
    }
}

extension ASN1Identifier {
    fileprivate static func explicit(_ tag: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: tag, tagClass: .contextSpecific)
    }
}
