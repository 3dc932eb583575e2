// Over 400 lines: secrets: write, read, versions, listing and the envelope encryption they share.
public import Foundation
public import HSM
public import MetadataStore
import PKCS11
import Synchronization

/// The secret vault: namespaces, each with a key-encryption key (AES-256) generated in the HSM, and
/// secrets stored only as AES-GCM ciphertext made by the HSM under that key. The store holds the
/// ciphertext, the IV (12 bytes from the token's RNG, fresh for every write), the tag and the KEK's
/// version; the associated data binds each ciphertext to its namespace, path and version, so a
/// ciphertext moved to another entry does not decrypt. Every read and write is an audit entry.
///
/// Plaintext exists in this process only while a value passes through: the caller's value on its
/// way to the HSM and a decrypted value on its way to the caller.
public final class Vault: Sendable {
    public let keyStore: KeyStore
    public let store: any MetadataBackend
    /// KEK rotations running in this process, by namespace.
    let rotations = Mutex<[String: Task<Void, Never>]>([:])
    /// Writers of one secret take turns (another process writing the same path is still possible and
    /// handled by retrying).
    let writers = PathLocks()

    public init(keyStore: KeyStore, store: any MetadataBackend) {
        self.keyStore = keyStore
        self.store = store
    }

    /// A namespace's rules.
    public struct Policy: Sendable, Hashable, Codable {
        /// The largest secret value, in bytes (at most 1 MiB).
        public var maxSecretBytes: Int
        /// Versions of a secret kept; writing one more destroys the oldest.
        public var keepVersions: Int
        /// Whether keys may be imported in plaintext (audited); otherwise only wrapped.
        public var allowPlaintextImport: Bool
        /// Whether keys may be exported in plaintext (audited); otherwise only wrapped.
        public var allowPlaintextExport: Bool

        public init(
            maxSecretBytes: Int = 64 * 1024,
            keepVersions: Int = 10,
            allowPlaintextImport: Bool = false,
            allowPlaintextExport: Bool = false
        ) {
            self.maxSecretBytes = maxSecretBytes
            self.keepVersions = keepVersions
            self.allowPlaintextImport = allowPlaintextImport
            self.allowPlaintextExport = allowPlaintextExport
        }

        func validate() throws(VaultError) {
            guard (1...(1 << 20)).contains(maxSecretBytes) else {
                throw VaultError(.invalidInput, "maxSecretBytes must be from 1 to 1048576")
            }
            guard (1...1000).contains(keepVersions) else {
                throw VaultError(.invalidInput, "keepVersions must be from 1 to 1000")
            }
        }
    }

    /// A secret's version as callers see it, without its value.
    public struct SecretInfo: Sendable, Hashable {
        public let namespace: String
        public let path: String
        public let version: UInt64
        public let size: Int
        public let metadata: [String: String]
        public let archived: Bool
        /// When this version was written.
        public let created: Date
        /// The KEK version that encrypts it.
        public let kekVersion: UInt64

        init(_ record: VaultEntryRecord) {
            namespace = record.namespace
            path = String(record.path.dropFirst(Self.secretPrefix.count))
            version = record.version
            size = record.ciphertext.count
            metadata = record.metadata
            archived = record.state == .archived
            created = Date(timeIntervalSince1970: Double(record.created) / 1e9)
            kekVersion = record.kekVersion
        }

        /// Entry paths of secrets start with this (keys will have their own).
        static let secretPrefix = "secrets/"
    }

    // MARK: Namespaces

    /// Creates a namespace and its first KEK in the HSM.
    public func createNamespace(_ name: String, policy: Policy, requester: Requester) async throws(VaultError)
        -> VaultNamespaceRecord
    {
        try Self.validate(namespace: name)
        try policy.validate()
        guard try await namespaceRecord(name, required: false) == nil else {
            throw VaultError(.namespaceExists, "a namespace named \"\(name)\" exists already")
        }
        do {
            let label = Self.kekLabel(namespace: name, version: 1)
            // A KEK left by an attempt that failed after generating it was never used: reuse it.
            var reference = try await keyStore.findSecretKey(label: label)
            if reference == nil { reference = try await keyStore.generateAESKey(label: label) }
            guard let reference else { throw VaultError(.internalError, "no KEK for \(name)") }
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            let record = VaultNamespaceRecord(
                name: name,
                keks: [.init(version: 1, label: reference.label, id: reference.id, created: now)],
                maxSecretBytes: policy.maxSecretBytes,
                keepVersions: policy.keepVersions,
                allowPlaintextImport: policy.allowPlaintextImport,
                allowPlaintextExport: policy.allowPlaintextExport,
                created: now
            )
            try await store.write { txn in
                guard try txn.record(VaultNamespaceRecord.self, key: record.primaryKey) == nil else {
                    throw VaultError(.namespaceExists, "a namespace named \"\(name)\" exists already")
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "vault.namespace.create",
                        object: "vault/\(name)",
                        outcome: "success: KEK v1 \(label) generated in the HSM",
                        requestID: requester.requestID
                    )
                )
            }
            return record
        } catch {
            throw VaultError.from(error)
        }
    }

    /// The namespace named `name`.
    public func namespace(_ name: String) async throws(VaultError) -> VaultNamespaceRecord {
        guard let record = try await namespaceRecord(name, required: true) else {
            throw VaultError(.unknownNamespace, "no vault namespace is named \"\(name)\"")
        }
        return record
    }

    /// Every namespace, by name.
    public func namespaces() async throws(VaultError) -> [VaultNamespaceRecord] {
        do {
            return try await store.read { try $0.records(VaultNamespaceRecord.self, after: nil, limit: .max) }
        } catch {
            throw VaultError.from(error)
        }
    }

    // MARK: Secrets

    /// Stores `value` as the next version of the secret at `path` (encrypted in the HSM under the
    /// namespace's current KEK), keeping at most the namespace's `keepVersions` versions. `metadata`
    /// nil keeps the previous version's. An archived secret must be restored first.
    public func putSecret(
        namespace name: String,
        path: String,
        value: [UInt8],
        metadata: [String: String]?,
        requester: Requester
    ) async throws(VaultError) -> SecretInfo {
        try Self.validate(path: path)
        if let metadata { try Self.validate(metadata: metadata) }
        let namespace = try await namespace(name)
        guard value.count <= namespace.maxSecretBytes else {
            throw VaultError(
                .tooLarge,
                "the value has \(value.count) bytes; namespace \(name) takes at most \(namespace.maxSecretBytes)"
            )
        }
        guard let kek = namespace.keks.last else {
            throw VaultError(.internalError, "namespace \(name) has no key-encryption key")
        }
        let entryPath = SecretInfo.secretPrefix + path
        return try await writers.with(name + "\u{0}" + entryPath) { () async throws(VaultError) -> SecretInfo in
            try await write(
                value,
                to: entryPath,
                namespace: namespace,
                kek: kek,
                metadata: metadata,
                requester: requester
            )
        }
    }

    private func write(
        _ value: [UInt8],
        to entryPath: String,
        namespace: VaultNamespaceRecord,
        kek: VaultNamespaceRecord.KEK,
        metadata: [String: String]?,
        requester: Requester
    ) async throws(VaultError) -> SecretInfo {
        let name = namespace.name
        let path = String(entryPath.dropFirst(SecretInfo.secretPrefix.count))
        do {
            // Concurrent writers of one path race for the next version number, which the ciphertext is
            // bound to: the loser encrypts again for the version after the winner's.
            for _ in 0..<8 {
                let latest = try await versions(of: entryPath, in: name).last
                if latest?.state == .archived {
                    throw VaultError(.archived, "the secret \(path) is archived; restore it before writing")
                }
                let version = (latest?.version ?? 0) + 1
                let iv = try await keyStore.random(12)
                let sealed = try await keyStore.encryptGCM(
                    KeyReference(label: kek.label, id: kek.id),
                    iv: iv,
                    additionalData: Self.associatedData(namespace: name, path: entryPath, version: version),
                    plaintext: value
                )
                let record = VaultEntryRecord(
                    namespace: name,
                    path: entryPath,
                    version: version,
                    ciphertext: sealed.ciphertext,
                    iv: iv,
                    tag: sealed.tag,
                    kekVersion: kek.version,
                    metadata: metadata ?? latest?.metadata ?? [:],
                    state: .active,
                    created: Int64(Date().timeIntervalSince1970 * 1e9)
                )
                let keep = namespace.keepVersions
                let written = try await store.write { txn -> Bool in
                    try Self.requireKEK(kek.version, of: name, txn)
                    // Another writer took this version meanwhile: encrypt again for the next one.
                    guard try txn.record(VaultEntryRecord.self, key: record.primaryKey) == nil else { return false }
                    try txn.save(record)
                    // The kept versions are few (pruned on every write): look at those, not at every
                    // number below the cut.
                    var destroyed = 0
                    for old in try Self.versions(of: entryPath, in: name, reader: txn)
                    where old.version + UInt64(keep) <= version {
                        if try txn.remove(VaultEntryRecord.self, key: old.primaryKey) { destroyed += 1 }
                    }
                    try txn.appendAudit(
                        AuditEvent(
                            actor: requester.actor,
                            action: "vault.secret.write",
                            object: "vault/\(name)/\(entryPath)",
                            outcome: "success: version \(version), \(value.count) bytes under KEK v\(kek.version)"
                                + (destroyed > 0 ? ", \(destroyed) old versions destroyed" : ""),
                            requestID: requester.requestID
                        )
                    )
                    return true
                }
                if written { return SecretInfo(record) }
            }
            throw VaultError(.writeConflict, "the secret \(path) is being written by others; try again")
        } catch {
            throw VaultError.from(error)
        }
    }

    /// The value of the secret at `path` (its newest version, or `version`), decrypted in the HSM.
    /// A ciphertext, IV, tag or binding that does not verify is an `integrityError`, never other bytes.
    public func secret(namespace name: String, path: String, version: UInt64?, requester: Requester)
        async throws(VaultError) -> (info: SecretInfo, value: [UInt8])
    {
        try Self.validate(path: path)
        let namespace = try await namespace(name)
        let entryPath = SecretInfo.secretPrefix + path
        let record = try await entry(entryPath, version: version, in: name)
        guard record.state == .active else {
            throw VaultError(.archived, "the secret \(path) is archived; restore it to read it")
        }
        guard let kek = namespace.keks.first(where: { $0.version == record.kekVersion }) else {
            throw VaultError(
                .integrityError,
                "\(path) v\(record.version) names KEK v\(record.kekVersion), which \(name) lacks"
            )
        }
        let object = "vault/\(name)/\(entryPath)"
        do {
            guard record.iv.count == 12, record.tag.count == 16 else {
                throw VaultError(.integrityError, "the stored IV or tag of \(path) v\(record.version) is damaged")
            }
            let value: [UInt8]
            do {
                value = try await keyStore.decryptGCM(
                    KeyReference(label: kek.label, id: kek.id),
                    iv: record.iv,
                    additionalData: Self.associatedData(namespace: name, path: entryPath, version: record.version),
                    ciphertext: record.ciphertext,
                    tag: record.tag
                )
            } catch {
                guard await isIntegrityFailure(error, kek: KeyReference(label: kek.label, id: kek.id)) else {
                    throw error
                }
                throw VaultError(
                    .integrityError,
                    "\(path) v\(record.version) does not verify: its ciphertext, IV, tag or binding was changed"
                )
            }
            try await audit(requester, "vault.secret.read", object, "success: version \(record.version)")
            return (SecretInfo(record), value)
        } catch {
            let failure = VaultError.from(error)
            try? await audit(requester, "vault.secret.read", object, "failure: \(failure.code)")
            throw failure
        }
    }

    /// Every version of the secret at `path` (archived ones included), oldest first.
    public func secretVersions(namespace name: String, path: String) async throws(VaultError) -> [SecretInfo] {
        try Self.validate(path: path)
        _ = try await namespace(name)
        let found = try await versions(of: SecretInfo.secretPrefix + path, in: name)
        guard !found.isEmpty else { throw VaultError(.unknownSecret, "no secret at \(path) in \(name)") }
        return found.map(SecretInfo.init)
    }

    /// The newest version of up to `limit` secrets whose paths start with `prefix`, after the path
    /// `cursor`, in path order; archived ones only when asked for.
    public func listSecrets(
        namespace name: String,
        prefix: String = "",
        after cursor: String?,
        limit: Int,
        includeArchived: Bool = false
    ) async throws(VaultError) -> [SecretInfo] {
        _ = try await namespace(name)
        let start = SecretInfo.secretPrefix + prefix
        var after: Key
        if let cursor {
            after = VaultEntryRecord.position(namespace: name, after: SecretInfo.secretPrefix + cursor)
        } else {
            after = VaultEntryRecord.position(namespace: name, pathPrefix: start)
        }
        var page: [SecretInfo] = []
        var current: VaultEntryRecord?
        do {
            scanning: while true {
                let batch = try await store.read { [after] reader in
                    try reader.records(VaultEntryRecord.self, after: after, limit: 256)
                }
                for record in batch {
                    guard record.namespace == name, record.path.hasPrefix(start) else { break scanning }
                    if let held = current, held.path != record.path {
                        if includeArchived || held.state == .active { page.append(SecretInfo(held)) }
                        if page.count == limit { return page }
                    }
                    current = record
                }
                guard let last = batch.last, batch.count == 256 else { break }
                after = last.primaryKey
            }
        } catch {
            throw VaultError.from(error)
        }
        if let held = current, page.count < limit, includeArchived || held.state == .active {
            page.append(SecretInfo(held))
        }
        return page
    }

    /// Archives (hides, keeping every version) or restores the secret at `path`.
    public func setArchived(namespace name: String, path: String, _ archived: Bool, requester: Requester)
        async throws(VaultError) -> SecretInfo
    {
        try await updateVersions(
            namespace: name,
            path: path,
            action: archived ? "vault.secret.archive" : "vault.secret.restore",
            requester: requester
        ) { record in
            record.state = archived ? .archived : .active
        }
    }

    /// Replaces the metadata of every version of the secret at `path`.
    public func setMetadata(namespace name: String, path: String, _ metadata: [String: String], requester: Requester)
        async throws(VaultError) -> SecretInfo
    {
        try Self.validate(metadata: metadata)
        return try await updateVersions(
            namespace: name,
            path: path,
            action: "vault.secret.metadata",
            requester: requester
        ) {
            record in
            record.metadata = metadata
        }
    }

    /// Destroys the secret at `path`: every version's ciphertext is removed from the store. Returns
    /// how many versions there were.
    @discardableResult
    public func deleteSecret(namespace name: String, path: String, requester: Requester) async throws(VaultError)
        -> Int
    {
        try Self.validate(path: path)
        _ = try await namespace(name)
        let entryPath = SecretInfo.secretPrefix + path
        do {
            return try await store.write { txn in
                var removed = 0
                for record in try Self.versions(of: entryPath, in: name, reader: txn) {
                    if try txn.remove(VaultEntryRecord.self, key: record.primaryKey) { removed += 1 }
                }
                guard removed > 0 else { throw VaultError(.unknownSecret, "no secret at \(path) in \(name)") }
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "vault.secret.delete",
                        object: "vault/\(name)/\(entryPath)",
                        outcome: "success: \(removed) versions destroyed",
                        requestID: requester.requestID
                    )
                )
                return removed
            }
        } catch {
            throw VaultError.from(error)
        }
    }

    // MARK: Helpers

    private func updateVersions(
        namespace name: String,
        path: String,
        action: String,
        requester: Requester,
        _ change: @escaping @Sendable (inout VaultEntryRecord) -> Void
    ) async throws(VaultError) -> SecretInfo {
        try Self.validate(path: path)
        _ = try await namespace(name)
        let entryPath = SecretInfo.secretPrefix + path
        do {
            let newest = try await store.write { txn in
                var newest: VaultEntryRecord?
                for var record in try Self.versions(of: entryPath, in: name, reader: txn) {
                    change(&record)
                    try txn.save(record)
                    newest = record
                }
                guard let newest else { throw VaultError(.unknownSecret, "no secret at \(path) in \(name)") }
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: action,
                        object: "vault/\(name)/\(entryPath)",
                        outcome: "success",
                        requestID: requester.requestID
                    )
                )
                return newest
            }
            return SecretInfo(newest)
        } catch {
            throw VaultError.from(error)
        }
    }

    func audit(_ requester: Requester, _ action: String, _ object: String, _ outcome: String) async throws {
        try await store.write { txn in
            _ = try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: action,
                    object: object,
                    outcome: outcome,
                    requestID: requester.requestID
                )
            )
        }
    }

    private func namespaceRecord(_ name: String, required: Bool) async throws(VaultError) -> VaultNamespaceRecord? {
        if required { try Self.validate(namespace: name) }
        do {
            return try await store.read { try $0.vaultNamespace(name: name) }
        } catch {
            throw VaultError.from(error)
        }
    }

    private func entry(_ entryPath: String, version: UInt64?, in name: String) async throws(VaultError)
        -> VaultEntryRecord
    {
        let shown = String(entryPath.dropFirst(SecretInfo.secretPrefix.count))
        if let version {
            let found: VaultEntryRecord?
            do {
                found = try await store.read { try $0.vaultEntry(namespace: name, path: entryPath, version: version) }
            } catch {
                throw VaultError.from(error)
            }
            guard let found else { throw VaultError(.unknownSecret, "\(shown) has no version \(version) in \(name)") }
            return found
        }
        guard let newest = try await versions(of: entryPath, in: name).last else {
            throw VaultError(.unknownSecret, "no secret at \(shown) in \(name)")
        }
        return newest
    }

    func versions(of entryPath: String, in name: String) async throws(VaultError) -> [VaultEntryRecord] {
        do {
            return try await store.read { try Self.versions(of: entryPath, in: name, reader: $0) }
        } catch {
            throw VaultError.from(error)
        }
    }

    /// Every stored version of one entry, oldest first (they sort together after the path's key).
    static func versions(of entryPath: String, in name: String, reader: any MetadataReading) throws
        -> [VaultEntryRecord]
    {
        var found: [VaultEntryRecord] = []
        var after = VaultEntryRecord.position(namespace: name, path: entryPath)
        while true {
            let batch = try reader.records(VaultEntryRecord.self, after: after, limit: 64)
            for record in batch {
                guard record.namespace == name, record.path == entryPath else { return found }
                found.append(record)
            }
            guard let last = batch.last, batch.count == 64 else { return found }
            after = last.primaryKey
        }
    }

    /// Refuses a write made under a KEK that a finished rotation has retired meanwhile (its object is
    /// about to be destroyed): the caller tries again and gets the current KEK.
    static func requireKEK(_ version: UInt64, of name: String, _ txn: any MetadataWriting) throws {
        let namespace = try txn.vaultNamespace(name: name)
        guard namespace?.keks.contains(where: { $0.version == version }) == true else {
            throw VaultError(.rotationInProgress, "namespace \(name) changed its KEK meanwhile; try again")
        }
    }

    /// What the AES-GCM tag binds a value to: format, namespace, entry path and version.
    static func associatedData(namespace: String, path: String, version: UInt64) -> [UInt8] {
        var bytes = Array("custos-vault-v1".utf8) + [0] + Array(namespace.utf8) + [0] + Array(path.utf8) + [0]
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: version >> shift)) }
        return bytes
    }

    static func kekLabel(namespace: String, version: UInt64) -> String { "custos-kek-\(namespace)-v\(version)" }

    /// Whether a decryption failed because what was stored does not verify rather than because the HSM
    /// failed. Tokens report a wrong GCM tag differently (SoftHSM: `CKR_GENERAL_ERROR`), so an error
    /// from `C_Decrypt` counts as an integrity failure when the same KEK still encrypts and decrypts a
    /// probe: then the key and the HSM are fine and the stored entry is at fault.
    func isIntegrityFailure(_ error: any Error, kek: KeyReference) async -> Bool {
        let failure = (error as? PKCS11Error) ?? (error as? HSMError)?.underlying
        guard let failure, failure.function == "C_Decrypt" || failure.function == "C_DecryptInit" else { return false }
        guard let iv = try? await keyStore.random(12) else { return false }
        let probe: [UInt8] = Array("custos-vault-probe".utf8)
        guard let sealed = try? await keyStore.encryptGCM(kek, iv: iv, additionalData: [], plaintext: probe),
            let opened = try? await keyStore.decryptGCM(
                kek,
                iv: iv,
                additionalData: [],
                ciphertext: sealed.ciphertext,
                tag: sealed.tag
            )
        else { return false }
        return opened == probe
    }

    // MARK: Validation

    /// The bytes of path segments, metadata keys and key names: `A-Z a-z 0-9 . _ -`.
    static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }

    /// Namespace names: 1 to 64 of `a-z 0-9 -`, starting with a letter or digit.
    static func validate(namespace: String) throws(VaultError) {
        let bytes = Array(namespace.utf8)
        let allowed = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), bytes[0] != 0x2D else {
            throw VaultError(.invalidInput, "a namespace has 1 to 64 of a-z 0-9 - and starts with a letter or digit")
        }
    }

    /// Secret paths: 1 to 256 bytes of segments separated by `/`, each 1 to 64 of `A-Z a-z 0-9 . _ -`
    /// and neither `.` nor `..`.
    static func validate(path: String) throws(VaultError) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let valid =
            (1...256).contains(path.utf8.count)
            && segments.allSatisfy { segment in
                (1...64).contains(segment.utf8.count) && segment != "." && segment != ".."
                    && segment.utf8.allSatisfy(Self.isNameByte)
            }
        guard valid else {
            throw VaultError(
                .invalidInput,
                "a secret path has 1 to 256 bytes: segments of 1 to 64 of A-Z a-z 0-9 . _ - separated by /, not . or .."
            )
        }
    }

    /// Metadata: at most 64 pairs; keys 1 to 64 of `A-Z a-z 0-9 . _ -`; values up to 1024 bytes.
    static func validate(metadata: [String: String]) throws(VaultError) {
        guard metadata.count <= 64 else { throw VaultError(.invalidInput, "at most 64 metadata pairs") }
        for (key, value) in metadata {
            let valid =
                (1...64).contains(key.utf8.count)
                && key.utf8.allSatisfy(Self.isNameByte)
            guard valid else {
                throw VaultError(.invalidInput, "metadata key \"\(key)\" must have 1 to 64 of A-Z a-z 0-9 . _ -")
            }
            guard value.utf8.count <= 1024 else {
                throw VaultError(.invalidInput, "metadata value of \(key) is longer than 1024 bytes")
            }
        }
    }
}
