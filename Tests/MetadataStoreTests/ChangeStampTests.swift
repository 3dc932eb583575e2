import CustosTestSupport
import Foundation
import Synchronization
import Testing

@testable import MetadataStore

/// Change stamps count every committed change of a tracked table and nothing else, and a cache filed
/// by them never answers with what a table no longer holds.
@Suite struct ChangeStampTests {
    static func policy(_ id: String, _ document: String) -> PolicyRecord {
        PolicyRecord(id: id, ca: "ca-1", category: "device", document: Array(document.utf8), updated: 0)
    }

    static func stamp(_ store: any MetadataBackend) async throws -> UInt64 {
        try await store.read { try $0.changeStamp(PolicyRecord.self) }
    }

    @Test func savesAndRemovalsOfATrackedTableCountAndNothingElseDoes() async throws {
        let (schema, writer) = try await makeSchema()
        let store: any MetadataBackend = LMDBBackend(schema: schema, writer: writer)
        #expect(try await Self.stamp(store) == 0)
        try await store.write { try $0.save(Self.policy("p1", "{}")) }
        #expect(try await Self.stamp(store) == 1)
        // Two changes in one write count twice; the write sees its own count.
        let inside = try await store.write { txn in
            try txn.save(Self.policy("p2", "{}"))
            try txn.save(Self.policy("p1", "{\"validityDays\":3}"))
            return try txn.changeStamp(PolicyRecord.self)
        }
        #expect(inside == 3)
        #expect(try await Self.stamp(store) == 3)
        try await store.write { _ = try $0.remove(PolicyRecord.self, key: Key().appending("p2")) }
        #expect(try await Self.stamp(store) == 4)
        // Removing what is not there changes nothing.
        try await store.write { _ = try $0.remove(PolicyRecord.self, key: Key().appending("p2")) }
        #expect(try await Self.stamp(store) == 4)
        // A write that fails keeps nothing, its count included.
        await #expect(throws: StoreError.self) {
            try await store.write { txn in
                try txn.save(Self.policy("p3", "{}"))
                throw StoreError(code: .invalidData, reason: "refused")
            }
        }
        #expect(try await Self.stamp(store) == 4)
        // Untracked tables keep no stamp.
        try await store.write { try $0.save(certificate(1, notAfter: 0, batch: "b")) }
        #expect(try await store.read { try $0.changeStamp(CertificateRecord.self) } == 0)
        #expect(try await Self.stamp(store) == 4)
    }

    @Test func theCacheAnswersWhatTheTableHoldsNow() async throws {
        let (schema, writer) = try await makeSchema()
        let store: any MetadataBackend = LMDBBackend(schema: schema, writer: writer)
        let cache = ChangeStampedCache<String, String?>()
        let loads = Atomic<Int>(0)
        func document(_ id: String) async throws -> String? {
            try await cache.value(id, watching: PolicyRecord.self, in: store) { reader in
                loads.add(1, ordering: .relaxed)
                return try reader.record(PolicyRecord.self, key: Key().appending(id)).map {
                    String(decoding: $0.document, as: UTF8.self)
                }
            }
        }
        #expect(try await document("p1") == nil)
        try await store.write { try $0.save(Self.policy("p1", "first")) }
        // A missing record was cached as missing, and its creation is seen at once.
        #expect(try await document("p1") == "first")
        #expect(try await document("p1") == "first")
        #expect(try await document("p1") == "first")
        #expect(loads.load(ordering: .relaxed) == 2)
        try await store.write { try $0.save(Self.policy("p1", "second")) }
        #expect(try await document("p1") == "second")
        try await store.write { _ = try $0.remove(PolicyRecord.self, key: Key().appending("p1")) }
        #expect(try await document("p1") == nil)
        #expect(loads.load(ordering: .relaxed) == 4)
        // A change to another table leaves the cache as it is.
        try await store.write { try $0.save(certificate(2, notAfter: 0, batch: "b")) }
        #expect(try await document("p1") == nil)
        #expect(loads.load(ordering: .relaxed) == 4)
    }

    @Test func anOlderSnapshotIsAnsweredButNotKept() {
        let cache = ChangeStampedCache<String, Int>()
        // What the cache answers for "k" read at `stamp` when the store holds `stored`.
        func answer(_ stamp: UInt64, stored: Int) -> Int { cache.value("k", stamp: stamp) { stored } }
        #expect(answer(5, stored: 50) == 50)
        #expect(answer(5, stored: 0) == 50)
        #expect(answer(4, stored: 40) == 40)
        #expect(answer(5, stored: 0) == 50)
        #expect(answer(6, stored: 60) == 60)
        #expect(answer(5, stored: 51) == 51)
        #expect(answer(6, stored: 0) == 60)
    }

    @Test func aFullCacheStartsOver() {
        let cache = ChangeStampedCache<Int, Int>(capacity: 3)
        func answer(_ key: Int, stored: Int) -> Int { cache.value(key, stamp: 1) { stored } }
        for key in 0..<3 { #expect(answer(key, stored: key) == key) }
        #expect(answer(0, stored: -1) == 0)
        #expect(answer(3, stored: 3) == 3)
        #expect(answer(0, stored: -1) == -1)
    }
}
