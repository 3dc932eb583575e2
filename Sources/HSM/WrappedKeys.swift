public import PKCS11

/// A symmetric key that lives outside the token only as ciphertext: wrapped under a key-encryption
/// key with `CKM_AES_KEY_WRAP_PAD` (RFC 5649). Every operation unwraps it into a session object (gone
/// when the session closes, destroyed at once here), uses it inside the HSM and destroys it, so a
/// vault of millions of keys adds no object to the token and the key's value is never in this process.
public struct SecretKeySpec: Sendable, Hashable {
    /// `CKK_AES` or `CKK_GENERIC_SECRET` (HMAC keys and n-bit secrets).
    public var keyType: KeyType
    /// The key's length in bytes: a multiple of 8, so that key wrap with padding adds no padding
    /// (SoftHSM 2.6 keeps RFC 5649 padding on unwrap: a 12-byte key would come back as 16).
    public var byteCount: Int

    public init(keyType: KeyType, byteCount: Int) {
        self.keyType = keyType
        self.byteCount = byteCount
    }

    var generationMechanism: Mechanism {
        Mechanism(keyType == .aes ? .aesKeyGen : .genericSecretKeyGen)
    }
}

/// The hash of RSA-OAEP (the MGF1 hash is the same).
public enum OAEPHash: String, Sendable, Hashable, CaseIterable {
    case sha1, sha256, sha384, sha512

    var mechanism: Mechanism {
        switch self {
        case .sha1: Mechanism(.rsaPKCSOAEP, .oaep(hash: .sha1, mgf: MGF.mgf1SHA1))
        case .sha256: Mechanism(.rsaPKCSOAEP, .oaep(hash: .sha256, mgf: MGF.mgf1SHA256))
        case .sha384: Mechanism(.rsaPKCSOAEP, .oaep(hash: .sha384, mgf: MGF.mgf1SHA384))
        case .sha512: Mechanism(.rsaPKCSOAEP, .oaep(hash: .sha512, mgf: MGF.mgf1SHA512))
        }
    }
}

/// The key a wrapped key travels under, on its way out of Custos (export) or in (import).
public enum TransportKey: Sendable, Hashable {
    /// The recipient's RSA public key: the key is wrapped with RSA-OAEP (export only).
    case rsaPublicKey(modulus: [UInt8], exponent: [UInt8], hash: OAEPHash)
    /// Custos's own RSA transport key pair on the token (import only: the sender wrapped with its
    /// public key).
    case rsaPrivateKey(KeyReference, hash: OAEPHash)
    /// Another wrapped AES key (a transport key registered with Custos and shared with the partner):
    /// the key travels under it with `CKM_AES_KEY_WRAP_PAD`.
    case aesKey(wrapped: [UInt8], byteCount: Int, kek: KeyReference)
}

extension KeyStore {
    /// Generates a key of `spec` in the HSM from its RNG and returns it wrapped under `kek`.
    public func generateWrappedKey(_ spec: SecretKeySpec, kek: KeyReference) async throws -> [UInt8] {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            let key = try session.generateKey(
                spec.generationMechanism,
                Self.transientKeyTemplate(spec.keyType, sensitive: true) + [.ulong(.valueLength, UInt(spec.byteCount))]
            )
            defer { try? session.destroyObject(key) }
            let kekHandle = try context.keys.handle(kek, .secretKey, session: session)
            return try session.wrapKey(Mechanism(.aesKeyWrapPad), wrappingKey: kekHandle, key: key)
        }
    }

    /// Brings a key given in plaintext into the HSM and returns it wrapped under `kek`. The template
    /// holding the value is wiped here, and with it `value` itself where the two share storage (an
    /// array passed in is not copied): read anything you need from `value` before. The caller wipes it.
    public func importPlaintextKey(_ value: [UInt8], spec: SecretKeySpec, kek: KeyReference) async throws
        -> [UInt8]
    {
        guard value.count == spec.byteCount else {
            throw HSMError(
                code: .invalidConfiguration,
                reason: "the key has \(value.count) bytes; its type needs \(spec.byteCount)"
            )
        }
        return try await pool.withSession(idempotent: false) { context in
            let session = context.session
            let material: AttributeTemplate = [.bytes(.value, value)]
            defer { material.wipe() }
            let key = try session.createObject(
                Self.transientKeyTemplate(spec.keyType, sensitive: true) + [.objectClass(.secretKey)]
                    + material.attributes
            )
            defer { try? session.destroyObject(key) }
            let kekHandle = try context.keys.handle(kek, .secretKey, session: session)
            return try session.wrapKey(Mechanism(.aesKeyWrapPad), wrappingKey: kekHandle, key: key)
        }
    }

    /// Unwraps a key that arrived wrapped under `transport`, checks that it has `spec`'s length and
    /// returns it wrapped under `kek`.
    public func importWrappedKey(
        _ wrapped: [UInt8],
        spec: SecretKeySpec,
        from transport: TransportKey,
        kek: KeyReference
    )
        async throws -> [UInt8]
    {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            var transientKeys: [ObjectHandle] = []
            defer { for key in transientKeys { try? session.destroyObject(key) } }
            let mechanism: Mechanism
            let unwrappingKey: ObjectHandle
            switch transport {
            case .rsaPrivateKey(let reference, let hash):
                mechanism = hash.mechanism
                unwrappingKey = try context.keys.handle(reference, .privateKey, session: session)
            case .aesKey(let transportWrapped, _, let transportKEK):
                mechanism = Mechanism(.aesKeyWrapPad)
                unwrappingKey = try Self.unwrapTransient(
                    transportWrapped,
                    .aes,
                    under: try context.keys.handle(transportKEK, .secretKey, session: session),
                    session: session
                )
                transientKeys.append(unwrappingKey)
            case .rsaPublicKey:
                throw HSMError(code: .invalidConfiguration, reason: "an RSA public key can only wrap, not unwrap")
            }
            let key = try session.unwrapKey(
                mechanism,
                unwrappingKey: unwrappingKey,
                wrapped: wrapped,
                template: Self.transientKeyTemplate(spec.keyType, sensitive: true) + [.objectClass(.secretKey)]
            )
            transientKeys.append(key)
            let kekHandle = try context.keys.handle(kek, .secretKey, session: session)
            let rewrapped = try session.wrapKey(Mechanism(.aesKeyWrapPad), wrappingKey: kekHandle, key: key)
            // The key's length shows in its wrapping (8 bytes more for a length that is a multiple of
            // 8), not in CKA_VALUE_LEN, which SoftHSM leaves at 0 on unwrapped keys.
            guard rewrapped.count == spec.byteCount + 8 else {
                throw HSMError(
                    code: .invalidConfiguration,
                    reason: "the unwrapped key has about \(rewrapped.count - 8) bytes; its type needs \(spec.byteCount)"
                )
            }
            return rewrapped
        }
    }

    /// The key wrapped under `kek`, re-wrapped under `transport` for a recipient.
    public func exportWrappedKey(_ wrapped: [UInt8], spec: SecretKeySpec, kek: KeyReference, to transport: TransportKey)
        async throws -> [UInt8]
    {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            var transientObjects: [ObjectHandle] = []
            defer { for object in transientObjects { try? session.destroyObject(object) } }
            let kekHandle = try context.keys.handle(kek, .secretKey, session: session)
            let key = try Self.unwrapTransient(wrapped, spec.keyType, under: kekHandle, session: session)
            transientObjects.append(key)
            switch transport {
            case .rsaPublicKey(let modulus, let exponent, let hash):
                let publicKey = try session.createObject([
                    .objectClass(.publicKey), .keyType(.rsa), .bool(.token, false), .bool(.wrap, true),
                    .bool(.encrypt, false), .bool(.verify, false), .bytes(.modulus, modulus),
                    .bytes(.publicExponent, exponent),
                ])
                transientObjects.append(publicKey)
                return try session.wrapKey(hash.mechanism, wrappingKey: publicKey, key: key)
            case .aesKey(let transportWrapped, _, let transportKEK):
                let transportKey = try Self.unwrapTransient(
                    transportWrapped,
                    .aes,
                    under: try context.keys.handle(transportKEK, .secretKey, session: session),
                    session: session
                )
                transientObjects.append(transportKey)
                return try session.wrapKey(Mechanism(.aesKeyWrapPad), wrappingKey: transportKey, key: key)
            case .rsaPrivateKey:
                throw HSMError(code: .invalidConfiguration, reason: "a key is exported under a public key")
            }
        }
    }

    /// The key's value in plaintext, for a namespace whose policy allows it. The caller wipes it after use.
    public func exportPlaintextKey(_ wrapped: [UInt8], spec: SecretKeySpec, kek: KeyReference) async throws
        -> [UInt8]
    {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            let kekHandle = try context.keys.handle(kek, .secretKey, session: session)
            let key = try Self.unwrapTransient(
                wrapped,
                spec.keyType,
                under: kekHandle,
                session: session,
                sensitive: false
            )
            defer { try? session.destroyObject(key) }
            return try session.attribute(.value, of: key)
        }
    }

    /// The key wrapped under `old`, re-wrapped under `new` (KEK rotation), inside the HSM.
    public func rewrapKey(_ wrapped: [UInt8], spec: SecretKeySpec, from old: KeyReference, to new: KeyReference)
        async throws -> [UInt8]
    {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            let key = try Self.unwrapTransient(
                wrapped,
                spec.keyType,
                under: try context.keys.handle(old, .secretKey, session: session),
                session: session
            )
            defer { try? session.destroyObject(key) }
            return try session.wrapKey(
                Mechanism(.aesKeyWrapPad),
                wrappingKey: try context.keys.handle(new, .secretKey, session: session),
                key: key
            )
        }
    }

    /// Generates an RSA key pair for receiving wrapped keys: the private key unwraps and does nothing
    /// else (sensitive, never extractable); the public key wraps. Returns its reference; the public
    /// key is read with `publicKey(_:)`.
    public func generateTransportKeyPair(label: String, bits: Int = 3072) async throws -> KeyReference {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            guard try session.findObjects([.label(label)], limit: 1).isEmpty else {
                throw HSMError(code: .invalidConfiguration, reason: "an object labelled \(label) exists on the token")
            }
            let id = try session.generateRandom(16)
            _ = try session.generateKeyPair(
                Mechanism(.rsaPKCSKeyPairGen),
                publicKey: [
                    .objectClass(.publicKey), .keyType(.rsa), .bool(.token, true), .label(label), .id(id),
                    .ulong(.modulusBits, UInt(bits)), .bytes(.publicExponent, [0x01, 0x00, 0x01]),
                    .bool(.wrap, true), .bool(.encrypt, false), .bool(.verify, false), .bool(.modifiable, false),
                ],
                privateKey: [
                    .objectClass(.privateKey), .keyType(.rsa), .bool(.token, true), .bool(.private, true),
                    .bool(.sensitive, true), .bool(.extractable, false), .label(label), .id(id),
                    .bool(.unwrap, true), .bool(.decrypt, false), .bool(.sign, false), .bool(.derive, false),
                    .bool(.modifiable, false),
                ]
            )
            return KeyReference(label: label, id: id)
        }
    }

    /// A session object for a key that exists only during one operation: never on the token,
    /// extractable only by wrapping (sensitive), usable to wrap and unwrap other keys when it is AES.
    static func transientKeyTemplate(_ keyType: KeyType, sensitive: Bool) -> AttributeTemplate {
        [
            .keyType(keyType), .bool(.token, false), .bool(.private, true), .bool(.sensitive, sensitive),
            .bool(.extractable, true), .bool(.wrap, keyType == .aes), .bool(.unwrap, keyType == .aes),
            .bool(.encrypt, false), .bool(.decrypt, false), .bool(.sign, false), .bool(.verify, false),
            .bool(.derive, false),
        ]
    }

    static func unwrapTransient(
        _ wrapped: [UInt8],
        _ keyType: KeyType,
        under kek: ObjectHandle,
        session: Session,
        sensitive: Bool = true
    ) throws -> ObjectHandle {
        try session.unwrapKey(
            Mechanism(.aesKeyWrapPad),
            unwrappingKey: kek,
            wrapped: wrapped,
            template: transientKeyTemplate(keyType, sensitive: sensitive) + [.objectClass(.secretKey)]
        )
    }
}

extension AttributeTemplate {
    static func + (lhs: AttributeTemplate, rhs: [Attribute]) -> AttributeTemplate {
        AttributeTemplate(lhs.attributes + rhs)
    }
}
