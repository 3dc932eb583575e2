import CustosTestSupport
import Foundation
import Testing

@testable import MetadataStore

/// One process at a time holds a lease on a shared store: the holder renews it, others wait for it to
/// expire or be released, and a higher rank takes it at once. Several `StoreLease` values on one store
/// stand for several processes (each has its own holder id, as each process start does).
@Suite struct StoreLeaseTests {
    static let second: Int64 = 1_000_000_000

    @Test func oneHolderAtATimeUntilExpiryReleaseOrAHigherRank() async throws {
        let (schema, writer) = try await makeSchema()
        let store: any MetadataBackend = LMDBBackend(schema: schema, writer: writer)
        let first = StoreLease(name: "job", term: .seconds(30), store: store)
        let second = StoreLease(name: "job", term: .seconds(30), store: store)
        let ranked = StoreLease(name: "job", rank: 1, term: .seconds(30), store: store)
        let other = StoreLease(name: "other-job", term: .seconds(30), store: store)
        // host/pid/random: two leases of one process are two holders.
        #expect(first.holder != second.holder)
        #expect(
            first.holder.split(separator: "/").map(String.init)[1] == "\(ProcessInfo.processInfo.processIdentifier)"
        )
        let start: Int64 = 1_000 * Self.second

        #expect(try await first.hold(now: start))
        #expect(try await !second.hold(now: start + 1))
        // Another job's lease is its own.
        #expect(try await other.hold(now: start + 1))
        // The holder renews: the other still waits past the first term.
        #expect(try await first.hold(now: start + 20 * Self.second))
        #expect(try await !second.hold(now: start + 31 * Self.second))
        #expect(try await first.current()?.expires == start + 50 * Self.second)
        // A holder that stops renewing loses it when it expires.
        #expect(try await second.hold(now: start + 50 * Self.second))
        #expect(try await !first.hold(now: start + 51 * Self.second))
        #expect(try await first.current()?.holder == second.holder)

        // A higher rank takes it at once, and a lower one cannot take it back before it expires.
        #expect(try await ranked.hold(now: start + 52 * Self.second))
        #expect(try await !second.hold(now: start + 53 * Self.second))
        #expect(try await first.current()?.rank == 1)

        // Released at shutdown: the next try of another holder gets it, long before the term is over.
        try await second.release()  // not the holder: changes nothing
        #expect(try await first.current()?.holder == ranked.holder)
        try await ranked.release()
        #expect(try await first.current() == nil)
        #expect(try await second.hold(now: start + 54 * Self.second))
        #expect(try await other.current()?.holder == other.holder)
    }

    @Test func holdersRacingForAFreeLeaseGetItOnce() async throws {
        let (schema, writer) = try await makeSchema()
        let store: any MetadataBackend = LMDBBackend(schema: schema, writer: writer)
        let now = StoreLease.now()
        let holders = (0..<16).map { _ in StoreLease(name: "job", term: .seconds(30), store: store) }
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for holder in holders { group.addTask { try await holder.hold(now: now) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        let holder = try #require(try await holders[0].current()?.holder)
        #expect(holders.contains { $0.holder == holder })
    }
}
