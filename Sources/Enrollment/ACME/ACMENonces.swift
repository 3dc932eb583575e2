import ACME
import ACMEValidation
import Codecs
import Foundation
import MetadataStore
import Synchronization

/// Replay nonces (RFC 8555 section 6.5) kept in the store, so that every process sharing it accepts
/// them and a restart forgets none. Nonces are made in batches (one write per `batch`) and handed out
/// from memory; using one removes its record in a write, so each is accepted once. The nonce text
/// carries its expiry, so the record is found without an index and expired ones are swept in key order.
final class ACMENonces: Sendable {
    let store: any MetadataBackend
    let lifetime: Duration
    let batch: Int
    private let bank = Mutex<[ACMENonceRecord]>([])

    init(store: any MetadataBackend, lifetime: Duration = .seconds(3_600), batch: Int = 64) {
        self.store = store
        self.lifetime = lifetime
        self.batch = batch
    }

    /// A fresh nonce.
    func next() async throws -> String {
        let now = EnrollmentService.now()
        let halfLife = lifetime.nanoseconds / 2
        if let record = bank.withLock({ bank -> ACMENonceRecord? in
            // Nonces with less than half their life left are dropped: a client may hold one a while.
            while let last = bank.last, last.expires - now < halfLife { bank.removeLast() }
            return bank.popLast()
        }) {
            return Self.text(record)
        }
        let expires = now + lifetime.nanoseconds
        var fresh = (0..<batch).map { _ in ACMENonceRecord(expires: expires, value: EnrollmentService.randomBytes(16)) }
        let records = fresh
        try await store.write { txn in for record in records { try txn.save(record) } }
        let mine = fresh.removeLast()
        bank.withLock { $0.append(contentsOf: fresh) }
        return Self.text(mine)
    }

    /// Uses up `text`; throws `badNonce` if it is not one Custos handed out, was used, or has expired.
    func consume(_ text: String) async throws(ACMEProblem) {
        guard let bytes = Base64URL.decode(text), bytes.count == 24 else {
            throw ACMEProblem(.badNonce, "the nonce is not one this server gave out")
        }
        let expires = bytes.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        guard expires > EnrollmentService.now() else { throw ACMEProblem(.badNonce, "the nonce has expired") }
        let key = ACMENonceRecord(expires: expires, value: Array(bytes.suffix(16))).primaryKey
        let removed: Bool
        do { removed = try await store.write { txn in try txn.remove(ACMENonceRecord.self, key: key) } } catch {
            throw ACMEProblem(.serverInternal, "the store failed: \(error)")
        }
        guard removed else { throw ACMEProblem(.badNonce, "the nonce was used already or is unknown") }
    }

    /// Removes expired nonces, at most `limit`; returns how many.
    func sweep(limit: Int = 10_000) async throws -> Int {
        let now = EnrollmentService.now()
        return try await store.write { txn in
            var removed = 0
            for record in try txn.acmeNonces(limit: limit) where record.expires <= now {
                try txn.remove(ACMENonceRecord.self, key: record.primaryKey)
                removed += 1
            }
            return removed
        }
    }

    static func text(_ record: ACMENonceRecord) -> String {
        let expiry = (0..<8).reversed().map { UInt8(truncatingIfNeeded: record.expires >> ($0 * 8)) }
        return Base64URL.encode(expiry + record.value)
    }
}
