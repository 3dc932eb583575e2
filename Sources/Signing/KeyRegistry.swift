import Foundation
public import HSM
public import MetadataStore
public import PKCS11
import SwiftASN1
import Synchronization
public import X509

/// The signing service's keys: generated in the HSM, referenced in the store, cached in memory.
///
/// The store is the source of truth. The cache is filled at start, updated after each change made here,
/// and emptied when the keys' change stamp moves (a key another node or process made, disabled or
/// retired: on a shared PostgreSQL store within the stamp poll, 250 ms). Every change commits together
/// with its audit entry.
public final class KeyRegistry: Sendable {
    let keyStore: KeyStore
    let store: any MetadataBackend
    private let tokenLabel: String
    private let cache: Mutex<Cache>

    /// The keys read at one change stamp of the key table.
    private struct Cache {
        var stamp: UInt64
        var keys: [String: SigningKey]
    }
    /// Names being generated right now, so that two requests for one name cannot both reach the HSM.
    private let reserved = Mutex<Set<String>>([])

    /// Loads every key record of `tokenLabel` from `store`.
    public init(keyStore: KeyStore, store: any MetadataBackend, tokenLabel: String) async throws {
        self.keyStore = keyStore
        self.store = store
        self.tokenLabel = tokenLabel
        let (stamp, records) = try await store.read {
            (try $0.changeStamp(KeyRecord.self), try $0.records(KeyRecord.self, after: nil, limit: .max))
        }
        var keys: [String: SigningKey] = [:]
        for record in records where record.token == tokenLabel { keys[record.name] = try SigningKey(record) }
        cache = Mutex(Cache(stamp: stamp, keys: keys))
    }

    /// The key named `name`, for API callers: Custos' own service keys (`custos-…`) are not theirs.
    ///
    /// A name the cache lacks is looked up in the store once: another process or node on the same store
    /// may have made the key since this one started.
    public func key(_ name: String) async throws(SigningError) -> SigningKey {
        guard let key = try await known(name), !key.isServiceKey else {
            throw SigningError(.unknownKey, "no key is named \"\(name)\"")
        }
        return key
    }

    /// One of Custos' own keys (TLS server, CA and OCSP signer keys), by name; looked up in the store when
    /// the cache lacks it, as `key(_:)`.
    public func serviceKey(_ name: String) async throws(SigningError) -> SigningKey {
        guard name.hasPrefix("custos-"), let key = try await known(name), key.isServiceKey else {
            throw SigningError(.unknownKey, "no service key is named \"\(name)\"")
        }
        return key
    }

    /// The cached key, else the stored one of this token (cached from then on); nil when there is none
    /// usable. A store that cannot answer now is `storeUnavailable`, not an unknown key.
    private func known(_ name: String) async throws(SigningError) -> SigningKey? {
        let stamp = await currentStamp()
        if let key = cache.withLock({ $0.keys[name] }) { return key }
        let record: KeyRecord?
        do { record = try await store.read { try $0.keyRecord(name: name) } } catch let error as StoreError
            where error.isUnavailable
        {
            throw SigningError.from(error)
        } catch {
            return nil
        }
        guard let record, record.token == tokenLabel, record.state != .retired, let key = try? SigningKey(record)
        else { return nil }
        // Kept only if nothing changed since the stamp was read (else a later lookup reads it again).
        cache.withLock { if $0.stamp == stamp { $0.keys[name] = key } }
        return key
    }

    /// The keys' change stamp as the store knows it now; the cache is emptied when it moved. A store
    /// that cannot say keeps the cache as it is.
    @discardableResult
    private func currentStamp() async -> UInt64? {
        guard let stamp = try? await store.knownChangeStamp(KeyRecord.self) else { return nil }
        cache.withLock { if stamp > $0.stamp { $0 = Cache(stamp: stamp, keys: [:]) } }
        return stamp
    }

    /// Up to `limit` keys after `cursor` (a name), in name order, that `include` accepts. Reads the
    /// store's key records first, so keys other nodes made are listed too.
    public func list(after cursor: String?, limit: Int, where include: (String) -> Bool = { _ in true }) async
        -> [SigningKey]
    {
        await currentStamp()
        if let (stamp, records) = try? await store.read({
            (try $0.changeStamp(KeyRecord.self), try $0.records(KeyRecord.self, after: nil, limit: .max))
        }) {
            var keys: [String: SigningKey] = [:]
            for record in records where record.token == tokenLabel && record.state != .retired {
                keys[record.name] = try? SigningKey(record)
            }
            cache.withLock { if stamp >= $0.stamp { $0 = Cache(stamp: stamp, keys: keys) } }
        }
        let all = cache.withLock { Array($0.keys.values) }.sorted { $0.name < $1.name }
        var page: [SigningKey] = []
        for key in all
        where !key.isServiceKey && page.count < limit && (cursor.map { key.name > $0 } ?? true) && include(key.name) {
            page.append(key)
        }
        return page
    }

    /// Generates a key pair in the HSM and records it. `requester` is recorded in the audit entry.
    public func create(name: String, algorithm: KeyAlgorithm, requester: Requester) async throws(SigningError)
        -> SigningKey
    {
        try SigningKey.validate(name: name)
        return try await generate(name: name, algorithm: algorithm, requester: requester)
    }

    /// Generates one of Custos' own keys (`custos-…`), which API callers can neither see nor use. One
    /// that `unwraps` may also unwrap keys sent to it into the token (see `KeyStore.generate`).
    public func createServiceKey(name: String, algorithm: KeyAlgorithm, requester: Requester, unwraps: Bool = false)
        async throws(SigningError) -> SigningKey
    {
        guard name.hasPrefix("custos-") else {
            throw SigningError(.invalidInput, "service key names start with \"custos-\"")
        }
        return try await record(name: name, algorithm: algorithm, action: "key.generate", requester: requester) {
            try await keyStore.generate(algorithm, label: name, unwraps: unwraps)
        }
    }

    /// Imports a key pair made outside the HSM as one of Custos' own keys (an operator's existing CA
    /// key); `values` gives its value attributes on the session's thread (see
    /// `KeyStore.importKeyPair`). The audit entry says the key was imported, not generated.
    public func importServiceKey(
        name: String,
        algorithm: KeyAlgorithm,
        requester: Requester,
        values: @escaping @Sendable () throws -> (private: AttributeTemplate, public: AttributeTemplate)
    ) async throws(SigningError) -> SigningKey {
        guard name.hasPrefix("custos-") else {
            throw SigningError(.invalidInput, "service key names start with \"custos-\"")
        }
        return try await record(name: name, algorithm: algorithm, action: "key.import", requester: requester) {
            try await keyStore.importKeyPair(algorithm, label: name, values: values)
        }
    }

    /// Records a key that is on the token already (made in a key ceremony) as the service key
    /// `name`: used by reference (its label and `CKA_ID`), never copied. The key must be there.
    public func adoptServiceKey(name: String, reference: KeyReference, requester: Requester) async throws(SigningError)
        -> SigningKey
    {
        guard name.hasPrefix("custos-") else {
            throw SigningError(.invalidInput, "service key names start with \"custos-\"")
        }
        let publicKey: PublicKey
        do { publicKey = try await keyStore.publicKey(reference) } catch {
            throw SigningError(.unknownKey, "no key \(reference) on token \(tokenLabel): \(error)")
        }
        return try await record(name: name, algorithm: publicKey.algorithm, action: "key.adopt", requester: requester) {
            reference
        }
    }

    private func generate(name: String, algorithm: KeyAlgorithm, requester: Requester) async throws(SigningError)
        -> SigningKey
    {
        try await record(name: name, algorithm: algorithm, action: "key.generate", requester: requester) {
            try await keyStore.generate(algorithm, label: name)
        }
    }

    /// Puts a key pair on the token with `make` and records it with an audit entry `action`.
    private func record(
        name: String,
        algorithm: KeyAlgorithm,
        action: String,
        requester: Requester,
        make: () async throws -> KeyReference
    ) async throws(SigningError) -> SigningKey {
        let claimed = reserved.withLock { $0.insert(name).inserted }
        defer { _ = reserved.withLock { $0.remove(name) } }
        // The store, not the cache, says whether the name is taken (another node may have made it; a
        // retired key's name is never reused): before the HSM makes anything.
        let taken: Bool
        do { taken = try await store.read { try $0.keyRecord(name: name) != nil } } catch {
            throw SigningError.from(error)
        }
        guard claimed, !taken else {
            throw SigningError(.keyExists, "a key named \"\(name)\" exists already")
        }
        do {
            let reference = try await make()
            let publicKey = try await keyStore.publicKey(reference)
            let record = KeyRecord(
                name: name,
                token: tokenLabel,
                label: reference.label,
                id: reference.id,
                algorithm: algorithm.rawValue,
                publicKey: publicKey.derRepresentation,
                usage: ["sign", "verify"],
                state: .active,
                created: Int64(Date().timeIntervalSince1970 * 1e9)
            )
            try await store.write { txn in
                guard try txn.record(KeyRecord.self, key: record.primaryKey) == nil else {
                    throw SigningError(.keyExists, "a key named \"\(name)\" exists already")
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: action,
                        object: "key/\(name)",
                        outcome: "success: \(algorithm.rawValue) on token \(self.tokenLabel), id \(reference.idHex)",
                        requestID: requester.requestID
                    )
                )
            }
            let key = try SigningKey(record)
            cache.withLock { $0.keys[name] = key }
            return key
        } catch {
            throw SigningError.from(error)
        }
    }

    /// Destroys both halves of one of Custos' own keys on the token (a delegated OCSP signer's key once
    /// its certificate has expired) and marks its record retired, with an audit entry. The record
    /// stays, so the name is never reused.
    public func destroyServiceKey(_ name: String, requester: Requester) async throws(SigningError) {
        let key = try await serviceKey(name)
        do {
            try await keyStore.destroy(key.reference)
        } catch {
            throw SigningError.from(error)
        }
        cache.withLock { _ = $0.keys.removeValue(forKey: name) }
        do {
            try await store.write { txn in
                guard var record = try txn.keyRecord(name: name) else { return }
                record.state = .retired
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "key.destroy",
                        object: "key/\(name)",
                        outcome: "success: both halves destroyed on token \(self.tokenLabel)",
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw SigningError.from(error)
        }
    }

    /// Enables or disables a key. Disabled keys keep their HSM half but sign nothing.
    public func setState(_ name: String, _ state: KeyRecord.State, requester: Requester) async throws(SigningError)
        -> SigningKey
    {
        try await update(name, action: "key.\(state == .active ? "enable" : "disable")", requester: requester) {
            record in
            record.state = state
        }
    }

    /// Attaches a certificate chain (leaf first) to a key. The leaf must certify the key's public key.
    public func attachCertificates(_ name: String, _ chain: [Certificate], requester: Requester)
        async throws(SigningError)
        -> SigningKey
    {
        let key = try await key(name)
        guard let leaf = chain.first else { throw SigningError(.invalidCertificate, "no certificate given") }
        var serializer = DER.Serializer()
        do { try serializer.serialize(leaf.publicKey) } catch {
            throw SigningError(.invalidCertificate, "the certificate's public key cannot be encoded: \(error)")
        }
        guard serializer.serializedBytes == key.publicKey.derRepresentation else {
            throw SigningError(.invalidCertificate, "the first certificate does not certify the public key of \(name)")
        }
        let encoded: [[UInt8]]
        do {
            encoded = try chain.map { certificate in
                var serializer = DER.Serializer()
                try serializer.serialize(certificate)
                return serializer.serializedBytes
            }
        } catch {
            throw SigningError(.invalidCertificate, "a certificate cannot be encoded: \(error)")
        }
        return try await update(name, action: "key.certificate", requester: requester) { record in
            record.certificateChain = encoded
        }
    }

    private func update(
        _ name: String,
        action: String,
        requester: Requester,
        _ change: @escaping @Sendable (inout KeyRecord) -> Void
    ) async throws(SigningError) -> SigningKey {
        _ = try await key(name)
        do {
            let record = try await store.write { txn in
                guard var record = try txn.keyRecord(name: name) else {
                    throw SigningError(.unknownKey, "no key is named \"\(name)\"")
                }
                change(&record)
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: action,
                        object: "key/\(name)",
                        outcome: "success",
                        requestID: requester.requestID
                    )
                )
                return record
            }
            let key = try SigningKey(record)
            cache.withLock { $0.keys[name] = key }
            return key
        } catch {
            throw SigningError.from(error)
        }
    }
}
