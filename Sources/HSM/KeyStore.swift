public import PKCS11

/// Signing keys on one token, used through its session pool. Keys are generated in the HSM;
/// callers keep only `KeyReference`s.
public struct KeyStore: Sendable {
    /// The pool every operation goes through.
    public let pool: SessionPool

    public init(pool: SessionPool) { self.pool = pool }

    /// Generates a signing key pair with the token's RNG choosing the `CKA_ID` (16 bytes) unless given.
    /// Never retried automatically: a blind retry could leave two keys behind. A key that `unwraps`
    /// may also unwrap keys encrypted to it (a SCEP RA key opening requests) into the token, never out.
    public func generate(_ algorithm: KeyAlgorithm, label: String, id: [UInt8]? = nil, unwraps: Bool = false)
        async throws -> KeyReference
    {
        guard !label.isEmpty, label.utf8.count <= 128 else {
            throw HSMError(code: .invalidConfiguration, reason: "a key label must have 1 to 128 bytes")
        }
        return try await pool.withSession(idempotent: false) { context in
            let session = context.session
            let id = try id ?? session.generateRandom(16)
            let reference = KeyReference(label: label, id: id)
            let existing = try session.findObjects([.label(label), .id(id)], limit: 1)
            guard existing.isEmpty else {
                throw HSMError(code: .invalidConfiguration, reason: "\(reference) already exists on the token")
            }
            var templates = algorithm.signingKeyPairTemplates(label: label, id: id)
            if unwraps {
                templates.private.attributes.removeAll { $0.type == .unwrap }
                templates.private.append(.bool(.unwrap, true))
            }
            _ = try session.generateKeyPair(
                Mechanism(algorithm.generationMechanism),
                publicKey: templates.public,
                privateKey: templates.private
            )
            return reference
        }
    }

    /// Stores a key pair made outside the HSM (an operator's existing CA key) as two token objects
    /// with the protection and usage of generated keys: private, sensitive, never extractable from
    /// now on, signing only. `values` runs on the session's thread and returns the key's value
    /// attributes (RSA: modulus, exponents, primes, coefficient; EC: the private value for the
    /// private object, parameters and point for the public one); every value is cleared right after
    /// `C_CreateObject`, whether the token took it or not. Never retried.
    public func importKeyPair(
        _ algorithm: KeyAlgorithm,
        label: String,
        values: @escaping @Sendable () throws -> (private: AttributeTemplate, public: AttributeTemplate)
    ) async throws -> KeyReference {
        guard !label.isEmpty, label.utf8.count <= 128 else {
            throw HSMError(code: .invalidConfiguration, reason: "a key label must have 1 to 128 bytes")
        }
        return try await pool.withSession(idempotent: false) { context in
            let session = context.session
            guard try session.findObjects([.label(label)], limit: 1).isEmpty else {
                throw HSMError(code: .invalidConfiguration, reason: "an object labelled \(label) exists on the token")
            }
            let id = try session.generateRandom(16)
            var templates = algorithm.signingKeyObjectTemplates(label: label, id: id)
            let material = try values()
            // The combined templates share the value buffers, so this clears them too; the id and the
            // label are not shared and stay (the reference returned holds the id).
            defer {
                material.private.wipe()
                material.public.wipe()
            }
            templates.private.attributes += material.private.attributes
            templates.public.attributes += material.public.attributes
            let privateKey = try session.createObject(templates.private)
            do {
                _ = try session.createObject(templates.public)
            } catch {
                try? session.destroyObject(privateKey)
                throw error
            }
            return KeyReference(label: label, id: id)
        }
    }

    /// Destroys every object with the reference's label and `CKA_ID` (the private and the public half).
    /// Returns how many there were. Never retried.
    @discardableResult
    public func destroy(_ reference: KeyReference) async throws -> Int {
        try await pool.withSession(idempotent: false) { context in
            let session = context.session
            let objects = try session.findObjects([.label(reference.label), .id(reference.id)], limit: 8)
            for object in objects { try session.destroyObject(object) }
            context.keys.invalidate(reference)
            return objects.count
        }
    }

    /// The reference of the private key labelled `label`, if there is exactly one.
    public func find(label: String) async throws -> KeyReference? {
        try await pool.withSession { context in
            let found = try context.session.findObjects([.objectClass(.privateKey), .label(label)], limit: 2)
            guard found.count == 1 else { return nil }
            return KeyReference(label: label, id: try context.session.attribute(.id, of: found[0]))
        }
    }

    /// The key labelled `label`, generated first if the token has none (service keys: keepalive, audit),
    /// and whether it was generated now.
    public func findOrGenerate(label: String, _ algorithm: KeyAlgorithm) async throws -> (
        reference: KeyReference, generated: Bool
    ) {
        if let existing = try await find(label: label) { return (existing, false) }
        return (try await generate(algorithm, label: label), true)
    }

    /// `count` random bytes from the token's RNG (serial numbers, nonces: all randomness from the HSM).
    public func random(_ count: Int) async throws -> [UInt8] {
        try await pool.withSession { context in try context.session.generateRandom(count) }
    }

    /// The public key of `reference`.
    public func publicKey(_ reference: KeyReference) async throws -> PublicKey {
        try await pool.withSession { context in
            try context.session.publicKey(of: try context.publicKey(reference))
        }
    }

    /// Signs `input` with `reference` under `scheme`. ECDSA signatures come back raw (r‖s).
    public func sign(_ reference: KeyReference, scheme: SignatureScheme, input: SigningInput) async throws -> [UInt8] {
        let prepared = try scheme.prepare(input)
        return try await pool.withSession { context in
            try context.session.sign(prepared.mechanism, key: try context.privateKey(reference), data: prepared.data)
        }
    }

    /// Verifies with the token.
    public func verify(_ reference: KeyReference, scheme: SignatureScheme, input: SigningInput, signature: [UInt8])
        async throws -> Bool
    {
        let prepared = try scheme.prepare(input)
        return try await pool.withSession { context in
            try context.session.verify(
                prepared.mechanism,
                key: try context.publicKey(reference),
                data: prepared.data,
                signature: signature
            )
        }
    }
}
