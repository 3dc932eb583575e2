import CustosTestSupport
import Foundation
import Testing

@testable import MetadataStore

/// The two backends, opened fresh for one test.
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lmdb
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind and how to close it.
    func open() async throws -> (store: any MetadataBackend, close: @Sendable () -> Void) {
        switch self {
        case .lmdb:
            let (schema, writer) = try await makeSchema()
            return (LMDBBackend(schema: schema, writer: writer), { writer.shutdown() })
        case .postgres:
            let url = try await PostgresServer.shared().newDatabase()
            let backend = try await PostgresBackend.open(
                try PostgresLocation(url: url),
                types: CustosStore.recordTypes,
                stampInterval: .milliseconds(100)
            )
            return (backend, { backend.shutdown() })
        }
    }
}

/// What every service relies on, checked against LMDB and PostgreSQL alike: the same answers in the
/// same order, atomic writes, one audit chain, change stamps and leases.
@Suite struct BackendConformanceTests {
    @Test(arguments: BackendKind.allCases)
    func recordsAndIndexesAnswerAlikeInKeyOrder(_ kind: BackendKind) async throws {
        let (store, close) = try await kind.open()
        defer { close() }
        try await store.write { txn in
            for serial in [UInt8](1...12) {
                try txn.save(certificate(serial, notAfter: Int64(serial) * 100, batch: serial < 5 ? "A" : "B"))
            }
            // Text that sorts by bytes, including an embedded zero byte.
            for id in ["b", "ab", "a", "a\u{0}z", "a\u{0}"] {
                try txn.save(PolicyRecord(id: id, ca: "ca-1", category: "device", document: [1], updated: 0))
            }
        }
        let (all, page, afterKey, batchA, range, policies) = try await store.read { reader in
            let all = try reader.records(CertificateRecord.self, after: nil, limit: .max)
            let page = try reader.records(CertificateRecord.self, after: nil, limit: 5)
            let afterKey = try reader.records(CertificateRecord.self, after: page.last?.primaryKey, limit: 100)
            let batchA = try reader.records(
                CertificateRecord.self,
                index: "metadata",
                value: Key().appending("batch").appending("A")
            )
            let range = try reader.keys(
                CertificateRecord.self,
                index: "not-after",
                from: Key().appending(Int64(300)),
                to: Key().appending(Int64(700)),
                limit: 3
            )
            let policies = try reader.records(PolicyRecord.self, after: nil, limit: .max).map(\.id)
            return (all, page, afterKey, batchA, range, policies)
        }
        #expect(all.count == 12)
        #expect(all.map(\.primaryKey) == all.map(\.primaryKey).sorted())
        #expect(page.count == 5 && afterKey.count == 7 && afterKey.first?.serial == [0x01, 6])
        #expect(batchA.map(\.serial) == [[1, 1], [1, 2], [1, 3], [1, 4]])
        #expect(range.count == 3)
        #expect(policies == ["a", "a\u{0}", "a\u{0}z", "ab", "b"])
        // Replacing a record moves its index entries; removing it removes them.
        try await store.write { txn in
            try txn.save(certificate(1, notAfter: 100, batch: "B"))
            #expect(try txn.remove(CertificateRecord.self, key: all[1].primaryKey))
            #expect(try !txn.remove(CertificateRecord.self, key: all[1].primaryKey))
            // A write reads what it wrote, through point reads and index reads alike.
            #expect(try txn.record(CertificateRecord.self, key: all[1].primaryKey) == nil)
            #expect(
                try txn.keys(
                    CertificateRecord.self,
                    index: "metadata",
                    value: Key().appending("batch").appending("A"),
                    limit: 10
                ).count == 2
            )
        }
        let (countA, countB) = try await store.read { reader in
            (
                try reader.keys(
                    CertificateRecord.self,
                    index: "metadata",
                    value: Key().appending("batch").appending("A"),
                    limit: 100
                ).count,
                try reader.keys(
                    CertificateRecord.self,
                    index: "metadata",
                    value: Key().appending("batch").appending("B"),
                    limit: 100
                ).count
            )
        }
        #expect(countA == 2 && countB == 9)
    }

    @Test(arguments: BackendKind.allCases)
    func aWriteThatThrowsKeepsNothingAndSparesTheWritesBesideIt(_ kind: BackendKind) async throws {
        let (store, close) = try await kind.open()
        defer { close() }
        struct Refused: Error {}
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for serial in [UInt8](1...40) {
                group.addTask {
                    do {
                        try await store.write { txn in
                            try txn.save(certificate(serial, notAfter: 0, batch: "G"))
                            try txn.appendAudit(
                                AuditEvent(actor: "t", action: "write", object: "\(serial)", outcome: "ok")
                            )
                            if serial % 7 == 0 { throw Refused() }
                        }
                        return true
                    } catch is Refused { return false }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 35)
        let (stored, audit) = try await store.read { reader in
            (
                try reader.records(CertificateRecord.self, after: nil, limit: .max).map { $0.serial[1] },
                try reader.verifyAudit()
            )
        }
        #expect(stored.count == 35 && !stored.contains { $0 % 7 == 0 })
        #expect(audit.entries == 35 && audit.firstBroken == nil, "\(audit)")
    }

    @Test(arguments: BackendKind.allCases)
    func changeStampsCountEveryCommittedChangeAndTheNodeKnowsItsOwnAtOnce(_ kind: BackendKind) async throws {
        let (store, close) = try await kind.open()
        defer { close() }
        @Sendable func policy(_ id: String) -> PolicyRecord {
            PolicyRecord(id: id, ca: nil, category: "device", document: [1], updated: 0)
        }
        #expect(try await store.knownChangeStamp(PolicyRecord.self) == 0)
        try await store.write { txn in
            try txn.save(policy("p1"))
            try txn.save(policy("p2"))
        }
        #expect(try await store.read { try $0.changeStamp(PolicyRecord.self) } == 2)
        #expect(try await store.knownChangeStamp(PolicyRecord.self) == 2)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await store.write { txn in
                try txn.save(policy("p3"))
                throw Refused()
            }
        }
        #expect(try await store.read { try $0.changeStamp(PolicyRecord.self) } == 2)
        // Untracked tables keep no stamp.
        try await store.write { try $0.save(certificate(1, notAfter: 0, batch: "x")) }
        #expect(try await store.read { try $0.changeStamp(CertificateRecord.self) } == 0)
    }

    @Test(arguments: BackendKind.allCases)
    func leasesGoToOneHolderAtATimeByTheStoresClock(_ kind: BackendKind) async throws {
        let (store, close) = try await kind.open()
        defer { close() }
        let holders = (0..<6).map { _ in StoreLease(name: "crl", term: .seconds(30), store: store) }
        let before = try await store.read { try $0.clock() }
        let won = try await withThrowingTaskGroup(of: Bool.self) { group in
            for holder in holders { group.addTask { try await holder.hold() } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        let hostBefore = StoreLease.now()
        let after = try await store.read { try $0.clock() }
        let hostAfter = StoreLease.now()
        #expect(won == 1)
        let current = try #require(try await holders[0].current())
        // The store's clock is this host's (LMDB) or its server's (PostgreSQL, here on this host).
        #expect(after >= hostBefore - 1_000_000_000 && after <= hostAfter + 1_000_000_000)
        // The term runs from the store's clock at the moment the lease was taken.
        #expect(current.expires >= before + 30_000_000_000 && current.expires <= after + 30_000_000_000)
    }
}
