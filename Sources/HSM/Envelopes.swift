import PKCS11

/// A symmetric cipher of an envelope (CMS EnvelopedData content encryption), CBC with PKCS#7 padding.
public enum EnvelopeCipher: Sendable, Hashable {
    /// AES with a key of 16, 24 or 32 bytes.
    case aesCBC(keyLength: Int)
    /// Triple DES (24-byte keys), which older SCEP clients still send.
    case desEDE3CBC

    var keyType: KeyType { if case .aesCBC = self { .aes } else { .des3 } }
    var mechanism: MechanismType { if case .aesCBC = self { .aesCBCPad } else { .des3CBCPad } }
    var blockLength: Int { if case .aesCBC = self { 16 } else { 8 } }
}

/// Envelopes opened and sealed in the token: the content-encryption key is unwrapped into, or made in,
/// the token as a session object and destroyed before the session is given back; only the content
/// (a certificate request, a certificate) is ever in Custos' memory in plaintext.
extension KeyStore {
    /// Decrypts an envelope sent to `recipient` (an RSA key generated with `unwraps`): `encryptedKey` is
    /// unwrapped with `CKM_RSA_PKCS` into a session key that only decrypts, which decrypts `ciphertext`.
    /// A key or content that does not decrypt fails with `PKCS11Error` (`CKR_WRAPPED_KEY_INVALID`,
    /// `CKR_ENCRYPTED_DATA_INVALID`, …): the caller's input is wrong.
    public func openEnvelope(
        recipient: KeyReference,
        encryptedKey: [UInt8],
        cipher: EnvelopeCipher,
        iv: [UInt8],
        ciphertext: [UInt8]
    ) async throws -> [UInt8] {
        guard iv.count == cipher.blockLength else {
            throw HSMError(
                code: .invalidConfiguration,
                reason: "the IV has \(iv.count) bytes, not \(cipher.blockLength)"
            )
        }
        return try await pool.withSession { context in
            let session = context.session
            // The key's length comes from the unwrapped value (SoftHSM refuses CKA_VALUE_LEN here); a
            // length that does not fit the cipher fails at C_DecryptInit.
            let template: AttributeTemplate = [
                .objectClass(.secretKey), .keyType(cipher.keyType), .bool(.token, false), .bool(.private, true),
                .bool(.sensitive, true), .bool(.extractable, false), .bool(.decrypt, true), .bool(.encrypt, false),
                .bool(.wrap, false), .bool(.unwrap, false), .bool(.sign, false), .bool(.verify, false),
                .bool(.derive, false),
            ]
            let key = try session.unwrapKey(
                Mechanism(.rsaPKCS),
                unwrappingKey: try context.privateKey(recipient),
                wrapped: encryptedKey,
                template: template
            )
            defer { try? session.destroyObject(key) }
            return try session.decrypt(Mechanism(cipher.mechanism, .bytes(iv)), key: key, data: ciphertext)
        }
    }

    /// Encrypts `plaintext` to an RSA public key: a content-encryption key made in the token for this
    /// one use encrypts it under a random IV from the token, and is wrapped with `CKM_RSA_PKCS` to the
    /// recipient (CMS key transport, RFC 5652 section 6.2.1). Never retried.
    public func sealEnvelope(
        modulus: [UInt8],
        exponent: [UInt8],
        cipher: EnvelopeCipher,
        plaintext: [UInt8]
    ) async throws -> (encryptedKey: [UInt8], iv: [UInt8], ciphertext: [UInt8]) {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            var objects: [ObjectHandle] = []
            defer { for object in objects.reversed() { try? session.destroyObject(object) } }
            let recipient = try session.createObject(Self.recipientKey(modulus: modulus, exponent: exponent))
            objects.append(recipient)
            var template: AttributeTemplate = [
                .objectClass(.secretKey), .keyType(cipher.keyType), .bool(.token, false), .bool(.private, true),
                .bool(.sensitive, true), .bool(.extractable, true), .bool(.encrypt, true), .bool(.decrypt, false),
                .bool(.wrap, false), .bool(.unwrap, false), .bool(.sign, false), .bool(.verify, false),
                .bool(.derive, false),
            ]
            let generation: MechanismType
            switch cipher {
            case .aesCBC(let length):
                template.append(.ulong(.valueLength, UInt(length)))
                generation = .aesKeyGen
            case .desEDE3CBC:
                generation = .des3KeyGen
            }
            let key = try session.generateKey(Mechanism(generation), template)
            objects.append(key)
            let iv = try session.generateRandom(cipher.blockLength)
            let ciphertext = try session.encrypt(Mechanism(cipher.mechanism, .bytes(iv)), key: key, data: plaintext)
            let encryptedKey = try session.wrapKey(Mechanism(.rsaPKCS), wrappingKey: recipient, key: key)
            return (encryptedKey, iv, ciphertext)
        }
    }
}
