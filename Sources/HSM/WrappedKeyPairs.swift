public import PKCS11

/// How the private key of a key pair made for someone else leaves the token.
public enum KeyPairDelivery: Sendable {
    /// Wrapped with `CKM_AES_CBC_PAD` under an AES key whose `CKA_VALUE` attribute `key` returns (on the
    /// session's thread; cleared right after `C_CreateObject`): PKCS#8 `PrivateKeyInfo`, CBC-encrypted
    /// with PKCS#7 padding under `iv`, which is the `encryptedData` of a PBES2 `EncryptedPrivateKeyInfo`
    /// when the key comes from PBKDF2.
    case aesCBC(iv: [UInt8], key: @Sendable () throws -> AttributeTemplate)
    /// To an RSA public key: an AES-256 key made in the token for this one use wraps the private key
    /// with `CKM_AES_KEY_WRAP_PAD` (RFC 5649) and is itself wrapped with RSA-OAEP under the recipient's
    /// key; the result is the two concatenated, OAEP part first (the layout of `CKM_RSA_AES_KEY_WRAP`,
    /// PKCS#11 3.0 section 2.1.21, built from two steps that tokens without it have).
    case rsaAESKeyWrap(modulus: [UInt8], exponent: [UInt8], hash: OAEPHash)
    /// As a CMS EnvelopedData's parts (RFC 5652 section 6, key transport): an AES key of `keyLength`
    /// bytes made in the token for this one use wraps the PKCS#8 key with `CKM_AES_CBC_PAD` under `iv`
    /// (the encrypted content) and is wrapped with `CKM_RSA_PKCS` to the recipient (the encrypted key);
    /// the result is the encrypted key (the modulus' length) followed by the encrypted content.
    case cmsEnvelope(iv: [UInt8], keyLength: Int, modulus: [UInt8], exponent: [UInt8])
}

/// Key pairs made in the HSM for someone else (a device that cannot make its own key) that leave the
/// token only wrapped.
extension KeyStore {
    /// A key pair generated as session objects, its private key wrapped as `delivery` says, and every
    /// object destroyed before the session is given back: the private key exists in plaintext only
    /// inside the token, and only for this call.
    ///
    /// A token that cannot wrap a private key that way fails with `HSMError.unsupported` (SoftHSM 2.6
    /// has no `CKM_AES_CBC_PAD` for `C_WrapKey`). Never retried.
    public func generateWrappedKeyPair(_ algorithm: KeyAlgorithm, delivery: KeyPairDelivery) async throws -> (
        publicKey: PublicKey, wrappedPrivateKey: [UInt8]
    ) {
        switch delivery {
        case .aesCBC(let iv, _), .cmsEnvelope(let iv, _, _, _):
            guard iv.count == 16 else {
                throw HSMError(code: .invalidConfiguration, reason: "an AES-CBC IV has 16 bytes")
            }
        case .rsaAESKeyWrap: break
        }
        return try await pool.withSession(idempotent: false) { context in
            let session = context.session
            var objects: [ObjectHandle] = []
            defer { for object in objects.reversed() { try? session.destroyObject(object) } }
            var pair = algorithm.signingKeyPairTemplates(label: "custos-device-key", id: [])
            pair.public.attributes.removeAll { $0.type == .id || $0.type == .token }
            pair.private.attributes.removeAll {
                $0.type == .id || $0.type == .token || $0.type == .extractable || $0.type == .sign
            }
            pair.public.append(.bool(.token, false))
            pair.private.append(.bool(.token, false))
            pair.private.append(.bool(.extractable, true))
            pair.private.append(.bool(.sign, false))
            let keys = try session.generateKeyPair(
                Mechanism(algorithm.generationMechanism),
                publicKey: pair.public,
                privateKey: pair.private
            )
            objects += [keys.publicKey, keys.privateKey]
            let publicKey = try session.publicKey(of: keys.publicKey)
            do {
                switch delivery {
                case .aesCBC(let iv, let value):
                    let material = try value()
                    defer { material.wipe() }
                    let wrappingKey = try session.createObject(
                        Self.oneUseWrappingKey(extractable: false) + material.attributes
                    )
                    objects.append(wrappingKey)
                    let wrapped = try session.wrapKey(
                        Mechanism(.aesCBCPad, .bytes(iv)),
                        wrappingKey: wrappingKey,
                        key: keys.privateKey
                    )
                    return (publicKey, wrapped)
                case .rsaAESKeyWrap(let modulus, let exponent, let hash):
                    let recipient = try session.createObject(Self.recipientKey(modulus: modulus, exponent: exponent))
                    objects.append(recipient)
                    let ephemeral = try session.generateKey(
                        Mechanism(.aesKeyGen),
                        Self.oneUseWrappingKey(extractable: true) + [.ulong(.valueLength, 32)]
                    )
                    objects.append(ephemeral)
                    let wrappedKey = try session.wrapKey(
                        Mechanism(.aesKeyWrapPad),
                        wrappingKey: ephemeral,
                        key: keys.privateKey
                    )
                    let wrappedAES = try session.wrapKey(hash.mechanism, wrappingKey: recipient, key: ephemeral)
                    return (publicKey, wrappedAES + wrappedKey)
                case .cmsEnvelope(let iv, let keyLength, let modulus, let exponent):
                    let recipient = try session.createObject(Self.recipientKey(modulus: modulus, exponent: exponent))
                    objects.append(recipient)
                    let contentKey = try session.generateKey(
                        Mechanism(.aesKeyGen),
                        Self.oneUseWrappingKey(extractable: true) + [.ulong(.valueLength, UInt(keyLength))]
                    )
                    objects.append(contentKey)
                    let content = try session.wrapKey(
                        Mechanism(.aesCBCPad, .bytes(iv)),
                        wrappingKey: contentKey,
                        key: keys.privateKey
                    )
                    let encryptedKey = try session.wrapKey(Mechanism(.rsaPKCS), wrappingKey: recipient, key: contentKey)
                    return (publicKey, encryptedKey + content)
                }
            } catch let error as PKCS11Error
                where [.mechanismInvalid, .keyNotWrappable, .mechanismParamInvalid].contains(error.returnValue)
            {
                throw HSMError(
                    code: .unsupported,
                    reason: "this token cannot wrap a private key that way (\(error))",
                    underlying: error
                )
            }
        }
    }

    /// A session RSA public key that wraps and does nothing else.
    static func recipientKey(modulus: [UInt8], exponent: [UInt8]) -> AttributeTemplate {
        [
            .objectClass(.publicKey), .keyType(.rsa), .bool(.token, false), .bool(.wrap, true),
            .bool(.encrypt, false), .bool(.verify, false), .bytes(.modulus, modulus), .bytes(.publicExponent, exponent),
        ]
    }

    /// A session AES key that wraps and does nothing else.
    private static func oneUseWrappingKey(extractable: Bool) -> AttributeTemplate {
        [
            .objectClass(.secretKey), .keyType(.aes), .bool(.token, false), .bool(.private, true),
            .bool(.sensitive, true), .bool(.extractable, extractable), .bool(.wrap, true), .bool(.unwrap, false),
            .bool(.encrypt, false), .bool(.decrypt, false), .bool(.sign, false), .bool(.verify, false),
            .bool(.derive, false),
        ]
    }
}
