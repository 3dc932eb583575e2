import PKCS11

/// AES keys that never leave the token (the vault's key-encryption keys) and what they do: AES-GCM
/// encryption and decryption in the HSM.
extension KeyStore {
    /// Generates an AES key of `bits` (128, 192 or 256) on the token: private, sensitive, never
    /// extractable, not modifiable, for encryption and key wrapping only (no signing or derivation). The token's RNG
    /// picks the 16-byte `CKA_ID`. Never retried.
    public func generateAESKey(label: String, bits: Int = 256) async throws -> KeyReference {
        guard [128, 192, 256].contains(bits) else {
            throw HSMError(code: .invalidConfiguration, reason: "an AES key has 128, 192 or 256 bits")
        }
        guard !label.isEmpty, label.utf8.count <= 128 else {
            throw HSMError(code: .invalidConfiguration, reason: "a key label must have 1 to 128 bytes")
        }
        return try await pool.withSession(idempotent: false) { context in
            let session = context.session
            guard try session.findObjects([.label(label)], limit: 1).isEmpty else {
                throw HSMError(code: .invalidConfiguration, reason: "an object labelled \(label) exists on the token")
            }
            let id = try session.generateRandom(16)
            _ = try session.generateKey(
                Mechanism(.aesKeyGen),
                [
                    .objectClass(.secretKey), .keyType(.aes), .ulong(.valueLength, UInt(bits / 8)), .bool(.token, true),
                    .bool(.private, true), .bool(.sensitive, true), .bool(.extractable, false), .label(label), .id(id),
                    .bool(.encrypt, true), .bool(.decrypt, true), .bool(.wrap, true), .bool(.unwrap, true),
                    .bool(.sign, false), .bool(.verify, false), .bool(.derive, false), .bool(.modifiable, false),
                ]
            )
            return KeyReference(label: label, id: id)
        }
    }

    /// The reference of the secret key labelled `label`, if there is exactly one.
    public func findSecretKey(label: String) async throws -> KeyReference? {
        try await pool.withSession { context in
            let found = try context.session.findObjects([.objectClass(.secretKey), .label(label)], limit: 2)
            guard found.count == 1 else { return nil }
            return KeyReference(label: label, id: try context.session.attribute(.id, of: found[0]))
        }
    }

    /// AES-GCM encryption in the HSM with a 128-bit tag: returns the ciphertext and the tag.
    /// `iv` must be fresh for every encryption under one key (12 bytes from the token's RNG).
    public func encryptGCM(_ key: KeyReference, iv: [UInt8], additionalData: [UInt8], plaintext: [UInt8])
        async throws -> (ciphertext: [UInt8], tag: [UInt8])
    {
        let sealed = try await pool.withSession { context in
            try context.session.encrypt(
                Mechanism(.aesGCM, .gcm(iv: iv, additionalData: additionalData, tagBits: 128)),
                key: try context.keys.handle(key, .secretKey, session: context.session),
                data: plaintext
            )
        }
        guard sealed.count == plaintext.count + 16 else {
            throw HSMError(code: .invalidConfiguration, reason: "AES-GCM returned \(sealed.count) bytes")
        }
        return (Array(sealed.dropLast(16)), Array(sealed.suffix(16)))
    }

    /// AES-GCM decryption in the HSM. A wrong key, IV, tag or associated data, or a changed
    /// ciphertext, fails with the token's error (`CKR_ENCRYPTED_DATA_INVALID` and kin), never with
    /// other bytes.
    public func decryptGCM(
        _ key: KeyReference,
        iv: [UInt8],
        additionalData: [UInt8],
        ciphertext: [UInt8],
        tag: [UInt8]
    ) async throws -> [UInt8] {
        try await pool.withSession { context in
            try context.session.decrypt(
                Mechanism(.aesGCM, .gcm(iv: iv, additionalData: additionalData, tagBits: 128)),
                key: try context.keys.handle(key, .secretKey, session: context.session),
                data: ciphertext + tag
            )
        }
    }
}
