import HSM

/// An AES key in the token, found by label and made on first use, its reference kept: the key that
/// wraps ACME's external account keys, the one that seals enrollment secrets for CMP's MACs.
actor TokenSecretKey {
    let label: String
    private var cached: KeyReference?

    init(label: String) { self.label = label }

    /// The key if the token has it (no key is made): for opening what it sealed.
    func existing(_ keyStore: KeyStore) async throws -> KeyReference? {
        if let cached { return cached }
        cached = try await keyStore.findSecretKey(label: label)
        return cached
    }

    func reference(_ keyStore: KeyStore) async throws -> KeyReference {
        if let cached { return cached }
        let reference: KeyReference
        if let found = try await keyStore.findSecretKey(label: label) {
            reference = found
        } else {
            reference = try await keyStore.generateAESKey(label: label)
        }
        cached = reference
        return reference
    }
}
