// Over 400 lines: keys kept for applications: generation, import, export wrapped under a transport key or PKCS#12.
import Codecs
import Crypto
public import Foundation
public import HSM
public import MetadataStore
import PKCS11
import _CryptoExtras

/// Symmetric keys in the vault. A key is never an object on the token: it is generated (or brought
/// in) by the HSM, wrapped under the namespace's KEK with `CKM_AES_KEY_WRAP_PAD`, and stored as that
/// ciphertext. Every use unwraps it into a short-lived session object inside the HSM. Key wrap has no
/// associated data, so each stored key also carries a GMAC made by the KEK over its namespace, path
/// and wrapped bytes: a wrapped key moved to another name, or changed, fails with an integrity error.
extension Vault {
    /// A key as callers see it, without its value.
    public struct KeyInfo: Sendable, Hashable {
        public let namespace: String
        public let name: String
        public let type: String
        /// `generated`, `imported-wrapped` or `imported-plaintext`.
        public let origin: String
        public let metadata: [String: String]
        public let created: Date
        public let kekVersion: UInt64

        init(_ record: VaultEntryRecord) {
            namespace = record.namespace
            name = String(record.path.dropFirst(Vault.keyPrefix.count))
            type = record.keyType
            origin = record.origin
            metadata = record.metadata
            created = Date(timeIntervalSince1970: Double(record.created) / 1e9)
            kekVersion = record.kekVersion
        }
    }

    /// Where a new key's value comes from.
    public enum KeyMaterial: Sendable {
        /// The HSM generates it from its RNG.
        case generate
        /// The caller sends it in plaintext (only where the namespace's policy allows; the caller
        /// wipes its copy).
        case plaintext([UInt8])
        /// The caller sends it wrapped under a transport key.
        case wrapped([UInt8], under: ImportTransport)
    }

    /// The key an imported key arrives wrapped under.
    public enum ImportTransport: Sendable, Hashable {
        /// The namespace's RSA transport key pair (the sender used its public key with RSA-OAEP).
        case namespaceRSA(OAEPHash)
        /// An AES key of the same namespace, shared with the sender (AES key wrap with padding).
        case vaultKey(String)
    }

    /// How an exported key leaves.
    public enum ExportTransport: Sendable, Hashable {
        /// Wrapped with RSA-OAEP under the recipient's public key (PEM).
        case rsaPublicKey(pem: String, hash: OAEPHash)
        /// Wrapped (AES key wrap with padding) under an AES key of the same namespace.
        case vaultKey(String)
        /// In plaintext, only where the namespace's policy allows.
        case plaintext
    }

    /// An exported key: wrapped bytes and the mechanism that unwraps them, or the plaintext value.
    public struct ExportedKey: Sendable {
        public var bytes: [UInt8]
        /// `CKM_RSA_PKCS_OAEP`, `CKM_AES_KEY_WRAP_PAD`, or `plaintext`.
        public var mechanism: String
    }

    static let keyPrefix = "keys/"

    // MARK: Keys

    /// Creates the key `keyName` of `type`: generated in the HSM or imported, then stored wrapped
    /// under the namespace's current KEK. A plaintext import needs `allowPlaintextImport`.
    public func createKey(
        namespace name: String,
        key keyName: String,
        type: VaultKeyType,
        material: KeyMaterial,
        metadata: [String: String],
        requester: Requester
    ) async throws(VaultError) -> KeyInfo {
        try Self.validate(keyName: keyName)
        try Self.validate(metadata: metadata)
        let namespace = try await namespace(name)
        let entryPath = Self.keyPrefix + keyName
        guard try await versions(of: entryPath, in: name).isEmpty else {
            throw VaultError(.keyExists, "a key named \(keyName) exists in \(name)")
        }
        guard let kekRecord = namespace.keks.last else {
            throw VaultError(.internalError, "namespace \(name) has no key-encryption key")
        }
        let kek = KeyReference(label: kekRecord.label, id: kekRecord.id)
        let origin: String
        let how: String
        let wrapped: [UInt8]
        do {
            switch material {
            case .generate:
                (origin, how) = ("generated", "generated in the HSM")
                wrapped = try await keyStore.generateWrappedKey(type.spec, kek: kek)
            case .plaintext(let value):
                guard namespace.allowPlaintextImport else {
                    throw VaultError(
                        .forbiddenByPolicy,
                        "namespace \(name) does not allow plaintext import; send the key wrapped under a transport key"
                    )
                }
                (origin, how) = ("imported-plaintext", "imported in plaintext (the namespace allows it)")
                do {
                    wrapped = try await keyStore.importPlaintextKey(value, spec: type.spec, kek: kek)
                } catch {
                    throw Self.transportFailure(error, "the key value does not fit type \(type)")
                }
            case .wrapped(let bytes, let transport):
                let hsmTransport = try await importTransport(transport, namespace: namespace)
                (origin, how) = ("imported-wrapped", "imported wrapped under \(Self.describe(transport))")
                do {
                    wrapped = try await keyStore.importWrappedKey(
                        bytes,
                        spec: type.spec,
                        from: hsmTransport,
                        kek: kek
                    )
                } catch {
                    throw Self.transportFailure(
                        error,
                        "the wrapped key does not unwrap to a \(type) key under \(Self.describe(transport))"
                    )
                }
            }
            let record = try await sealKey(
                namespace: name,
                path: entryPath,
                wrapped: wrapped,
                kekVersion: kekRecord.version,
                kek: kek,
                type: type,
                origin: origin,
                metadata: metadata
            )
            try await store.write { txn in
                try Self.requireKEK(kekRecord.version, of: name, txn)
                guard try txn.record(VaultEntryRecord.self, key: record.primaryKey) == nil else {
                    throw VaultError(.keyExists, "a key named \(keyName) exists in \(name)")
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: material.isGenerate ? "vault.key.generate" : "vault.key.import",
                        object: "vault/\(name)/\(entryPath)",
                        outcome: "success: \(type), \(how), wrapped under KEK v\(kekRecord.version)",
                        requestID: requester.requestID
                    )
                )
            }
            return KeyInfo(record)
        } catch {
            let failure = VaultError.from(error)
            if !material.isGenerate {
                try? await audit(
                    requester,
                    "vault.key.import",
                    "vault/\(name)/\(entryPath)",
                    "failure: \(failure.code)"
                )
            }
            throw failure
        }
    }

    /// The key `keyName`, without its value.
    public func key(namespace name: String, key keyName: String) async throws(VaultError) -> KeyInfo {
        try Self.validate(keyName: keyName)
        _ = try await namespace(name)
        guard let record = try await versions(of: Self.keyPrefix + keyName, in: name).last else {
            throw VaultError(.unknownKey, "no key named \(keyName) in \(name)")
        }
        return KeyInfo(record)
    }

    /// Up to `limit` keys of the namespace after the name `cursor`, by name.
    public func listKeys(namespace name: String, after cursor: String?, limit: Int) async throws(VaultError)
        -> [KeyInfo]
    {
        _ = try await namespace(name)
        var after =
            cursor.map { VaultEntryRecord.position(namespace: name, after: Self.keyPrefix + $0) }
            ?? VaultEntryRecord.position(namespace: name, pathPrefix: Self.keyPrefix)
        var page: [KeyInfo] = []
        do {
            while page.count < limit {
                let batch = try await store.read { [after] reader in
                    try reader.records(VaultEntryRecord.self, after: after, limit: 256)
                }
                for record in batch {
                    guard record.namespace == name, record.path.hasPrefix(Self.keyPrefix) else { return page }
                    page.append(KeyInfo(record))
                    if page.count == limit { return page }
                }
                guard let last = batch.last, batch.count == 256 else { break }
                after = last.primaryKey
            }
        } catch {
            throw VaultError.from(error)
        }
        return page
    }

    /// The key `keyName` for a recipient: wrapped under their RSA public key or a vault AES key, or in
    /// plaintext where the namespace's policy allows. Audited either way.
    public func exportKey(
        namespace name: String,
        key keyName: String,
        to transport: ExportTransport,
        requester: Requester
    )
        async throws(VaultError) -> ExportedKey
    {
        let (namespace, record, kek) = try await loadKey(namespace: name, key: keyName)
        guard let type = VaultKeyType(record.keyType) else {
            throw VaultError(.integrityError, "\(keyName) has an unknown key type \(record.keyType)")
        }
        let object = "vault/\(name)/\(record.path)"
        do {
            let exported: ExportedKey
            let how: String
            switch transport {
            case .plaintext:
                guard namespace.allowPlaintextExport else {
                    throw VaultError(
                        .forbiddenByPolicy,
                        "namespace \(name) does not allow plaintext export; export wrapped under a transport key"
                    )
                }
                exported = ExportedKey(
                    bytes: try await keyStore.exportPlaintextKey(record.ciphertext, spec: type.spec, kek: kek),
                    mechanism: "plaintext"
                )
                how = "in plaintext (the namespace allows it)"
            case .rsaPublicKey(let pem, let hash):
                let recipient: _RSA.Encryption.PublicKey
                do {
                    recipient = try _RSA.Encryption.PublicKey(pemRepresentation: pem)
                } catch {
                    throw VaultError(.invalidInput, "rsaPublicKey is not a PEM RSA public key of 2048 bits or more")
                }
                let primitives: _RSA.Encryption.PublicKey.Primitives
                do { primitives = try recipient.getKeyPrimitives() } catch { throw VaultError.from(error) }
                let modulus = Array(primitives.modulus.drop { $0 == 0 })
                do {
                    exported = ExportedKey(
                        bytes: try await keyStore.exportWrappedKey(
                            record.ciphertext,
                            spec: type.spec,
                            kek: kek,
                            to: .rsaPublicKey(modulus: modulus, exponent: Array(primitives.publicExponent), hash: hash)
                        ),
                        mechanism: "CKM_RSA_PKCS_OAEP"
                    )
                } catch {
                    throw Self.transportFailure(error, "the HSM could not wrap under this RSA key with OAEP-\(hash)")
                }
                let fingerprint = Array(SHA256.hash(data: recipient.derRepresentation).prefix(8))
                how =
                    "wrapped under RSA-OAEP-\(hash.rawValue) key \(Hex.encode(fingerprint))"
            case .vaultKey(let transportName):
                let hsmTransport = try await aesTransport(transportName, namespace: namespace)
                exported = ExportedKey(
                    bytes: try await keyStore.exportWrappedKey(
                        record.ciphertext,
                        spec: type.spec,
                        kek: kek,
                        to: hsmTransport
                    ),
                    mechanism: "CKM_AES_KEY_WRAP_PAD"
                )
                how = "wrapped under vault key \(transportName)"
            }
            try await audit(requester, "vault.key.export", object, "success: \(how)")
            return exported
        } catch {
            let failure = VaultError.from(error)
            try? await audit(requester, "vault.key.export", object, "failure: \(failure.code)")
            throw failure
        }
    }

    /// Replaces the key's metadata.
    public func setKeyMetadata(
        namespace name: String,
        key keyName: String,
        _ metadata: [String: String],
        requester: Requester
    )
        async throws(VaultError) -> KeyInfo
    {
        try Self.validate(keyName: keyName)
        try Self.validate(metadata: metadata)
        _ = try await namespace(name)
        let entryPath = Self.keyPrefix + keyName
        do {
            let updated = try await store.write { txn in
                guard var record = try Self.versions(of: entryPath, in: name, reader: txn).last else {
                    throw VaultError(.unknownKey, "no key named \(keyName) in \(name)")
                }
                record.metadata = metadata
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "vault.key.metadata",
                        object: "vault/\(name)/\(entryPath)",
                        outcome: "success",
                        requestID: requester.requestID
                    )
                )
                return record
            }
            return KeyInfo(updated)
        } catch {
            throw VaultError.from(error)
        }
    }

    /// Destroys the key: its wrapped value is removed from the store.
    public func deleteKey(namespace name: String, key keyName: String, requester: Requester) async throws(VaultError) {
        try Self.validate(keyName: keyName)
        _ = try await namespace(name)
        let entryPath = Self.keyPrefix + keyName
        do {
            try await store.write { txn in
                var removed = 0
                for record in try Self.versions(of: entryPath, in: name, reader: txn) {
                    if try txn.remove(VaultEntryRecord.self, key: record.primaryKey) { removed += 1 }
                }
                guard removed > 0 else { throw VaultError(.unknownKey, "no key named \(keyName) in \(name)") }
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "vault.key.delete",
                        object: "vault/\(name)/\(entryPath)",
                        outcome: "success: destroyed",
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw VaultError.from(error)
        }
    }

    // MARK: The namespace's RSA transport key

    /// Creates the namespace's RSA-3072 transport key pair in the HSM (its private key only unwraps)
    /// and returns the public key (PEM) senders wrap keys under.
    public func createTransportKey(namespace name: String, requester: Requester) async throws(VaultError) -> String {
        _ = try await namespace(name)
        do {
            guard try await keyStore.find(label: Self.transportLabel(name)) == nil else {
                throw VaultError(.keyExists, "namespace \(name) has a transport key already")
            }
            let reference = try await keyStore.generateTransportKeyPair(label: Self.transportLabel(name))
            try await audit(requester, "vault.transport-key.create", "vault/\(name)", "success: RSA-3072 \(reference)")
            return try await transportPublicKeyPEM(reference)
        } catch {
            throw VaultError.from(error)
        }
    }

    /// The namespace's RSA transport public key (PEM), if it has one.
    public func transportKey(namespace name: String) async throws(VaultError) -> String? {
        _ = try await namespace(name)
        do {
            guard let reference = try await keyStore.find(label: Self.transportLabel(name)) else { return nil }
            return try await transportPublicKeyPEM(reference)
        } catch {
            throw VaultError.from(error)
        }
    }

    // MARK: Helpers

    /// Wraps up a stored key: the GMAC over its binding, made by the KEK.
    func sealKey(
        namespace name: String,
        path entryPath: String,
        wrapped: [UInt8],
        kekVersion: UInt64,
        kek: KeyReference,
        type: VaultKeyType,
        origin: String,
        metadata: [String: String],
        created: Int64? = nil
    ) async throws -> VaultEntryRecord {
        let iv = try await keyStore.random(12)
        let mac = try await keyStore.encryptGCM(
            kek,
            iv: iv,
            additionalData: Self.keyBinding(namespace: name, path: entryPath, wrapped: wrapped),
            plaintext: []
        )
        return VaultEntryRecord(
            namespace: name,
            path: entryPath,
            version: 1,
            ciphertext: wrapped,
            iv: iv,
            tag: mac.tag,
            kekVersion: kekVersion,
            metadata: metadata,
            state: .active,
            created: created ?? Int64(Date().timeIntervalSince1970 * 1e9),
            keyType: type.name,
            origin: origin
        )
    }

    /// A stored key whose binding verifies, with its namespace and KEK.
    func loadKey(namespace name: String, key keyName: String) async throws(VaultError) -> (
        VaultNamespaceRecord, VaultEntryRecord, KeyReference
    ) {
        try Self.validate(keyName: keyName)
        let namespace = try await namespace(name)
        guard let record = try await versions(of: Self.keyPrefix + keyName, in: name).last else {
            throw VaultError(.unknownKey, "no key named \(keyName) in \(name)")
        }
        try await verifyKey(record, namespace: namespace)
        guard let kek = namespace.keks.first(where: { $0.version == record.kekVersion }) else {
            throw VaultError(.integrityError, "\(keyName) names KEK v\(record.kekVersion), which \(name) lacks")
        }
        return (namespace, record, KeyReference(label: kek.label, id: kek.id))
    }

    /// Checks a stored key's GMAC: a changed wrapped value, IV or tag, or a key moved to another name,
    /// fails with an integrity error.
    func verifyKey(_ record: VaultEntryRecord, namespace: VaultNamespaceRecord) async throws(VaultError) {
        let shown = String(record.path.dropFirst(Self.keyPrefix.count))
        guard let kekRecord = namespace.keks.first(where: { $0.version == record.kekVersion }) else {
            throw VaultError(.integrityError, "\(shown) names KEK v\(record.kekVersion), which \(namespace.name) lacks")
        }
        guard record.iv.count == 12, record.tag.count == 16 else {
            throw VaultError(.integrityError, "the stored binding of key \(shown) is damaged")
        }
        let kek = KeyReference(label: kekRecord.label, id: kekRecord.id)
        do {
            _ = try await keyStore.decryptGCM(
                kek,
                iv: record.iv,
                additionalData: Self.keyBinding(
                    namespace: record.namespace,
                    path: record.path,
                    wrapped: record.ciphertext
                ),
                ciphertext: [],
                tag: record.tag
            )
        } catch {
            guard await isIntegrityFailure(error, kek: kek) else { throw VaultError.from(error) }
            throw VaultError(.integrityError, "key \(shown) does not verify: its wrapped value or binding was changed")
        }
    }

    private func importTransport(_ transport: ImportTransport, namespace: VaultNamespaceRecord) async throws(VaultError)
        -> TransportKey
    {
        switch transport {
        case .namespaceRSA(let hash):
            let found: KeyReference?
            do { found = try await keyStore.find(label: Self.transportLabel(namespace.name)) } catch {
                throw VaultError.from(error)
            }
            guard let found else {
                throw VaultError(
                    .invalidInput,
                    "namespace \(namespace.name) has no RSA transport key; create one with POST …/transport-key"
                )
            }
            return .rsaPrivateKey(found, hash: hash)
        case .vaultKey(let transportName):
            return try await aesTransport(transportName, namespace: namespace)
        }
    }

    private func aesTransport(_ transportName: String, namespace: VaultNamespaceRecord) async throws(VaultError)
        -> TransportKey
    {
        let (_, record, kek) = try await loadKey(namespace: namespace.name, key: transportName)
        guard let type = VaultKeyType(record.keyType), type.isTransportCapable else {
            throw VaultError(
                .invalidInput,
                "transport key \(transportName) is \(record.keyType); only AES keys wrap keys"
            )
        }
        return .aesKey(wrapped: record.ciphertext, byteCount: type.spec.byteCount, kek: kek)
    }

    private func transportPublicKeyPEM(_ reference: KeyReference) async throws -> String {
        guard case .rsa(let key) = try await keyStore.publicKey(reference) else {
            throw VaultError(.internalError, "the transport key \(reference) is not RSA")
        }
        return key.pemRepresentation
    }

    private static func describe(_ transport: ImportTransport) -> String {
        switch transport {
        case .namespaceRSA(let hash): "the namespace's RSA transport key (OAEP-\(hash.rawValue))"
        case .vaultKey(let name): "vault key \(name)"
        }
    }

    /// A failed wrap or unwrap with a caller's transport data is the caller's problem (400) when the
    /// token refused the data or the mechanism's parameters; anything else stays an HSM failure.
    static func transportFailure(_ error: any Error, _ message: String) -> VaultError {
        if let error = error as? VaultError { return error }
        let failure = (error as? PKCS11Error) ?? (error as? HSMError)?.underlying
        let callerCodes: [ReturnValue] = [
            .wrappedKeyInvalid, .wrappedKeyLenRange, .encryptedDataInvalid, .encryptedDataLenRange, .argumentsBad,
            .mechanismParamInvalid, .mechanismInvalid, .generalError, .templateInconsistent, .attributeValueInvalid,
            .keySizeRange,
        ]
        if let returnValue = failure?.returnValue, callerCodes.contains(returnValue) {
            return VaultError(.invalidInput, "\(message) (\(returnValue))")
        }
        if let error = error as? HSMError, error.code == .invalidConfiguration {
            return VaultError(.invalidInput, "\(message): \(error.reason)")
        }
        return VaultError.from(error)
    }

    /// What a key's GMAC binds: format, namespace, entry path, and the wrapped bytes.
    static func keyBinding(namespace: String, path: String, wrapped: [UInt8]) -> [UInt8] {
        Array("custos-vault-key-v1".utf8) + [0] + Array(namespace.utf8) + [0] + Array(path.utf8) + [0] + wrapped
    }

    static func transportLabel(_ namespace: String) -> String { "custos-transport-\(namespace)" }

    /// Key names: 1 to 64 of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
    static func validate(keyName: String) throws(VaultError) {
        let valid =
            (1...64).contains(keyName.utf8.count) && keyName != "." && keyName != ".."
            && keyName.utf8.allSatisfy(Self.isNameByte)
        guard valid else { throw VaultError(.invalidInput, "a key name has 1 to 64 of A-Z a-z 0-9 . _ -, not . or ..") }
    }
}

extension Vault.KeyMaterial {
    var isGenerate: Bool {
        if case .generate = self { return true }
        return false
    }
}
