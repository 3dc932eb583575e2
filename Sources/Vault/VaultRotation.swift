import Foundation
import HSM
public import MetadataStore
import PKCS11
import Synchronization

/// KEK rotation. `rotateKEK` generates the next KEK in the HSM and makes it current: every write from
/// then on uses it. A background pass re-encrypts (secrets) or re-wraps (keys) every entry still under
/// an older KEK, one entry per store transaction, each checked again in its transaction so a
/// concurrent write, delete or newer version is never overwritten. Entries stay readable throughout
/// (a read uses the KEK version its entry names). When no entry names an old KEK any more, the KEK
/// leaves the namespace record in the same transaction that counts zero entries, and then its object
/// is destroyed on the token.
extension Vault {
    /// How far a rotation has come.
    public struct RotationProgress: Sendable, Hashable {
        /// KEK versions still being retired.
        public let retiring: [UInt64]
        /// Entries still under them.
        public let remaining: Int
    }

    /// Generates KEK version n+1 and starts re-encrypting the namespace under it. Refused while an
    /// earlier rotation is still running.
    public func rotateKEK(namespace name: String, requester: Requester) async throws(VaultError) -> VaultNamespaceRecord
    {
        let namespace = try await namespace(name)
        guard namespace.keks.count == 1, let current = namespace.keks.last else {
            throw VaultError(.rotationInProgress, "namespace \(name) is still re-encrypting under its newest KEK")
        }
        let version = current.version + 1
        do {
            let label = Self.kekLabel(namespace: name, version: version)
            var reference = try await keyStore.findSecretKey(label: label)
            if reference == nil { reference = try await keyStore.generateAESKey(label: label) }
            guard let reference else { throw VaultError(.internalError, "no KEK v\(version) for \(name)") }
            let kek = VaultNamespaceRecord.KEK(
                version: version,
                label: reference.label,
                id: reference.id,
                created: Int64(Date().timeIntervalSince1970 * 1e9)
            )
            let updated = try await store.write { txn in
                guard var record = try txn.record(VaultNamespaceRecord.self, key: namespace.primaryKey),
                    record.keks.count == 1, record.keks.last?.version == current.version
                else {
                    throw VaultError(.rotationInProgress, "namespace \(name) was rotated meanwhile")
                }
                record.keks.append(kek)
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "vault.kek.rotate",
                        object: "vault/\(name)",
                        outcome:
                            "started: KEK v\(version) \(label) generated in the HSM; re-encrypting from v\(current.version)",
                        requestID: requester.requestID
                    )
                )
                return record
            }
            startReencryption(namespace: name)
            return updated
        } catch {
            throw VaultError.from(error)
        }
    }

    /// The rotation under way in the namespace, if any.
    public func rotationProgress(namespace name: String) async throws(VaultError) -> RotationProgress? {
        let namespace = try await namespace(name)
        guard namespace.keks.count > 1 else { return nil }
        let retiring = namespace.keks.dropLast().map(\.version)
        do {
            let remaining = try await store.read { reader in
                try retiring.reduce(0) { total, version in
                    total
                        + (try reader.vaultEntryKeys(namespace: name, kekVersion: version, limit: .max).count)
                }
            }
            return RotationProgress(retiring: retiring, remaining: remaining)
        } catch {
            throw VaultError.from(error)
        }
    }

    /// Resumes every unfinished rotation not running in this process (after a restart, or on a shared
    /// store after the node running it died).
    public func resumeRotations() async {
        guard let namespaces = try? await namespaces() else { return }
        for namespace in namespaces where namespace.keks.count > 1 { startReencryption(namespace: namespace.name) }
    }

    /// Waits until no rotation runs in this process (tests, shutdown).
    public func waitForRotations() async {
        while let task = rotations.withLock({ $0.values.first }) { await task.value }
    }

    private func startReencryption(namespace name: String) {
        rotations.withLock { running in
            guard running[name] == nil else { return }
            running[name] = Task { [self] in
                defer { _ = rotations.withLock { $0.removeValue(forKey: name) } }
                do {
                    try await reencrypt(namespace: name)
                } catch {
                    // Another node on a shared store finished it meanwhile (and destroyed the old KEK
                    // this pass was reading with): nothing was interrupted.
                    if let namespace = try? await namespace(name), namespace.keks.count == 1 { return }
                    // Left for the next start (resumeRotations) or the next rotate request; entries
                    // stay readable under the old KEK meanwhile.
                    try? await audit(
                        Requester(actor: "custos"),
                        "vault.kek.rotate",
                        "vault/\(name)",
                        "interrupted: \(VaultError.from(error))"
                    )
                }
            }
        }
    }

    private func reencrypt(namespace name: String) async throws {
        var moved = 0
        while true {
            let namespace = try await namespace(name)
            guard namespace.keks.count > 1, let newest = namespace.keks.last else { return }
            let target = KeyReference(label: newest.label, id: newest.id)
            var batch: [Key] = []
            for old in namespace.keks.dropLast() {
                batch = try await store.read { reader in
                    try reader.vaultEntryKeys(namespace: name, kekVersion: old.version, limit: 64)
                }
                if !batch.isEmpty { break }
            }
            if batch.isEmpty {
                try await retireOldKEKs(namespace: namespace, moved: moved)
                continue
            }
            for key in batch {
                guard let record = try await store.read({ try $0.record(VaultEntryRecord.self, key: key) }),
                    let old = namespace.keks.first(where: { $0.version == record.kekVersion }),
                    old.version != newest.version
                else { continue }
                let replacement = try await reencrypted(
                    record,
                    from: KeyReference(label: old.label, id: old.id),
                    to: target,
                    version: newest.version
                )
                let replaced = try await store.write { txn in
                    // Only the entry as it was read: a delete, a metadata change or a newer write wins.
                    guard let current = try txn.record(VaultEntryRecord.self, key: key), current == record else {
                        return false
                    }
                    try txn.save(replacement)
                    return true
                }
                if replaced { moved += 1 }
            }
        }
    }

    /// The entry under `target`: a secret decrypted and encrypted again with a fresh IV (the plaintext
    /// is wiped at once), a key re-wrapped inside the HSM with a new binding.
    private func reencrypted(
        _ record: VaultEntryRecord,
        from old: KeyReference,
        to target: KeyReference,
        version: UInt64
    )
        async throws -> VaultEntryRecord
    {
        var replacement = record
        replacement.kekVersion = version
        if record.path.hasPrefix(Self.keyPrefix) {
            guard let type = VaultKeyType(record.keyType) else {
                throw VaultError(.integrityError, "\(record.path) has an unknown key type \(record.keyType)")
            }
            try await verifyKey(record, namespace: try namespace(record.namespace))
            let wrapped = try await keyStore.rewrapKey(record.ciphertext, spec: type.spec, from: old, to: target)
            return try await sealKey(
                namespace: record.namespace,
                path: record.path,
                wrapped: wrapped,
                kekVersion: version,
                kek: target,
                type: type,
                origin: record.origin,
                metadata: record.metadata,
                created: record.created
            ).with(state: record.state)
        }
        let binding = Self.associatedData(namespace: record.namespace, path: record.path, version: record.version)
        let plaintext = try await keyStore.decryptGCM(
            old,
            iv: record.iv,
            additionalData: binding,
            ciphertext: record.ciphertext,
            tag: record.tag
        )
        defer { AttributeTemplate.wipe(plaintext) }
        let iv = try await keyStore.random(12)
        let sealed = try await keyStore.encryptGCM(target, iv: iv, additionalData: binding, plaintext: plaintext)
        replacement.iv = iv
        replacement.ciphertext = sealed.ciphertext
        replacement.tag = sealed.tag
        return replacement
    }

    /// Removes KEKs that no entry names from the namespace, in a transaction that checks the count,
    /// then destroys their objects on the token.
    private func retireOldKEKs(namespace: VaultNamespaceRecord, moved: Int) async throws {
        let name = namespace.name
        let retired = try await store.write { txn -> [VaultNamespaceRecord.KEK] in
            guard var record = try txn.record(VaultNamespaceRecord.self, key: namespace.primaryKey),
                let newest = record.keks.last
            else { return [] }
            var retired: [VaultNamespaceRecord.KEK] = []
            for old in record.keks.dropLast() {
                let left = try txn.vaultEntryKeys(namespace: name, kekVersion: old.version, limit: 1)
                if left.isEmpty { retired.append(old) }
            }
            guard !retired.isEmpty else { return [] }
            record.keks.removeAll { kek in retired.contains { $0.version == kek.version } }
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: "custos",
                    action: "vault.kek.rotate",
                    object: "vault/\(name)",
                    outcome: "completed: \(moved) entries re-encrypted under KEK v\(newest.version); KEK "
                        + retired.map { "v\($0.version)" }.joined(separator: ", ") + " destroyed"
                )
            )
            return retired
        }
        for kek in retired { try await keyStore.destroy(KeyReference(label: kek.label, id: kek.id)) }
    }
}

extension VaultEntryRecord {
    fileprivate func with(state: State) -> VaultEntryRecord {
        var copy = self
        copy.state = state
        return copy
    }
}
