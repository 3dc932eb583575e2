import CustosTestSupport
import Foundation
import Testing

@testable import MetadataStore

/// Several nodes on one PostgreSQL database: one gapless audit chain, no lost updates, other nodes'
/// changes seen within the stated bound, and a database that goes away and comes back.
@Suite struct PostgresClusterStoreTests {
    static func node(_ url: String, stampInterval: Duration = .milliseconds(100)) async throws -> PostgresBackend {
        try await PostgresBackend.open(
            try PostgresLocation(url: url),
            types: CustosStore.recordTypes,
            stampInterval: stampInterval
        )
    }

    @Test func twoNodesKeepOneGaplessAuditChainAndLoseNoUpdate() async throws {
        let url = try await PostgresServer.shared().newDatabase()
        let (a, b) = (try await Self.node(url), try await Self.node(url))
        defer {
            a.shutdown()
            b.shutdown()
        }
        let counter = Key().appending("ca-shared")
        // Each write takes the next CRL number (a read-modify-write) and appends an audit entry, from both
        // nodes at once: serialization failures make them run again, never both take one number.
        let numbers = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for index in 0..<80 {
                let node = index % 2 == 0 ? a : b
                group.addTask {
                    try await node.write { txn in
                        let next = (try txn.record(CRLNumberRecord.self, key: counter)?.number ?? 0) + 1
                        try txn.save(CRLNumberRecord(issuer: "ca-shared", number: next, thisUpdate: 0, nextUpdate: 0))
                        try txn.appendAudit(
                            AuditEvent(actor: "node", action: "crl.number", object: "\(next)", outcome: "ok")
                        )
                        return next
                    }
                }
            }
            return try await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(Set(numbers).count == 80 && numbers.max() == 80)
        let verification = try await b.verifyAudit()
        #expect(verification.entries == 80 && verification.firstBroken == nil, "\(verification)")
        #expect(a.statistics.commits + b.statistics.commits >= 2)
    }

    @Test func anotherNodesChangeReachesThisNodeWithinTheStampInterval() async throws {
        let url = try await PostgresServer.shared().newDatabase()
        let (a, b) = (try await Self.node(url), try await Self.node(url, stampInterval: .milliseconds(200)))
        defer {
            a.shutdown()
            b.shutdown()
        }
        let before = try await b.knownChangeStamp(PolicyRecord.self)
        try await a.write {
            try $0.save(PolicyRecord(id: "p", ca: nil, category: "device", document: [1], updated: 0))
        }
        let clock = ContinuousClock()
        let start = clock.now
        while try await b.knownChangeStamp(PolicyRecord.self) == before, clock.now - start < .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let seen = clock.now - start
        #expect(try await b.knownChangeStamp(PolicyRecord.self) == before + 1)
        // The documented bound is one interval and a query; a machine loaded by the full suite gets slack.
        #expect(seen < .seconds(5), "node B saw node A's change after \(seen)")
        // A direct read sees it at once.
        #expect(try await b.read { try $0.record(PolicyRecord.self, key: Key().appending("p")) } != nil)
    }

    @Test func aDatabaseThatGoesAwayMakesTheStoreUnavailableUntilItIsBack() async throws {
        let server = try await runOnDedicatedThreadForTest { try PostgresServer(port: freeLoopbackPort()) }
        defer { server.stop() }
        let store = try await Self.node(server.url)
        defer { store.shutdown() }
        _ = try await store.write {
            try $0.appendAudit(AuditEvent(actor: "t", action: "before", object: "x", outcome: "ok"))
        }
        try await server.pause()
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: StoreError.self) {
            try await store.write {
                try $0.appendAudit(AuditEvent(actor: "t", action: "down", object: "x", outcome: "ok"))
            }
        }
        do {
            _ = try await store.read { try $0.auditHead() }
            Issue.record("a read answered while the database was down")
        } catch let error as StoreError {
            #expect(error.code == .unavailable, "\(error)")
        }
        #expect(clock.now - start < .seconds(15), "failures are prompt, not hung")
        try await server.resume()
        // The workers connect again on their own.
        _ = try await store.write {
            try $0.appendAudit(AuditEvent(actor: "t", action: "after", object: "x", outcome: "ok"))
        }
        let verification = try await store.verifyAudit()
        #expect(verification.entries == 2 && verification.firstBroken == nil, "\(verification)")
        let actions = try await store.read { try $0.auditEntries(after: nil, limit: 10).map(\.event.action) }
        #expect(actions == ["before", "after"])
    }
}

/// Runs blocking set-up (starting a server) off the cooperative pool.
func runOnDedicatedThreadForTest<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
