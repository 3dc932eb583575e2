import PKCS11

/// HMAC keys that live outside the token only wrapped under a key-encryption key (as the vault's keys
/// do), and HMAC-SHA-256 computed with them inside the HSM: the key is unwrapped into a session object
/// that may only sign, used, and destroyed.
extension KeyStore {
    /// HMAC-SHA-256 of `data` under the key `wrapped` (`CKK_GENERIC_SECRET`, wrapped under `kek` with
    /// `CKM_AES_KEY_WRAP_PAD`).
    public func hmacSHA256(wrapped: [UInt8], kek: KeyReference, data: [UInt8]) async throws -> [UInt8] {
        try await pool.withSession { context in
            let session = context.session
            let kekHandle = try context.keys.handle(kek, .secretKey, session: session)
            let key = try session.unwrapKey(
                Mechanism(.aesKeyWrapPad),
                unwrappingKey: kekHandle,
                wrapped: wrapped,
                template: [
                    .objectClass(.secretKey), .keyType(.genericSecret), .bool(.token, false), .bool(.private, true),
                    .bool(.sensitive, true), .bool(.extractable, false), .bool(.sign, true), .bool(.verify, false),
                    .bool(.encrypt, false), .bool(.decrypt, false), .bool(.wrap, false), .bool(.unwrap, false),
                    .bool(.derive, false),
                ]
            )
            defer { try? session.destroyObject(key) }
            return try session.sign(Mechanism(.sha256HMAC), key: key, data: data)
        }
    }
}
