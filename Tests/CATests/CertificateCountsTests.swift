import CA
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// The overview the dashboard shows (counts by CA, category and status; valid certificates expiring
/// within each horizon) and how `CertificateCounts` keeps it: the first reader waits for a count, later
/// ones get the kept overview at once, and an old one is counted again in the background.
@Suite struct CertificateCountsTests {
    static let day: Int64 = 86_400_000_000_000

    /// A store with records written directly (the count never parses their DER).
    static func store() async throws -> LMDBBackend {
        let directory = try makeTemporaryDirectory("custos-counts")
        let (schema, writer) = try await CustosStore.open(dataDirectory: directory)
        return LMDBBackend(schema: schema, writer: writer)
    }

    static func add(_ store: LMDBBackend, ca: String, _ items: [(days: Int64, category: String, revoked: Bool)])
        async throws
    {
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let base = Int.random(in: 0..<1_000_000)
        try await store.write { txn in
            for (index, item) in items.enumerated() {
                var serial = [UInt8](repeating: 0x11, count: 16)
                withUnsafeBytes(of: UInt64(base * 1000 + index).bigEndian) { serial.replaceSubrange(8..<16, with: $0) }
                try txn.save(
                    CertificateRecord(
                        issuer: ca,
                        serial: serial,
                        subject: "CN=\(index)",
                        notBefore: now - 400 * day,
                        notAfter: now + item.days * day,
                        der: [0x30, 0x00],
                        metadata: [:],
                        category: item.category,
                        status: item.revoked ? .revoked : .valid
                    )
                )
            }
        }
    }

    @Test func theOverviewCountsByStatusAndHorizonInOnePass() async throws {
        let store = try await Self.store()
        try await Self.add(
            store,
            ca: "a",
            [
                (3, "device", false), (20, "device", false), (60, "device", false), (200, "device", false),
                (3, "device", true), (-2, "device", false), (10, "tls-server", false),
            ]
        )
        try await Self.add(store, ca: "b", [(5, "user", false)])
        let overview = try await CertificateReports(store: store).overview(horizons: [90, 7, 30])
        #expect(overview.horizons == [7, 30, 90])
        // Cumulative: within 7 days ⊂ within 30 ⊂ within 90; revoked and expired ones never count.
        #expect(overview.expiring["a"] == [1, 3, 4])
        #expect(overview.expiring["b"] == [1, 1, 1])
        let counts = Dictionary(
            uniqueKeysWithValues: overview.counts.map { ("\($0.ca)/\($0.category)/\($0.status)", $0.count) }
        )
        #expect(
            counts == [
                "a/device/valid": 4, "a/device/revoked": 1, "a/device/expired": 1, "a/tls-server/valid": 1,
                "b/user/valid": 1,
            ]
        )
        #expect(try await CertificateReports(store: store).summary() == overview.counts)
    }

    @Test func keptCountsAreServedAtOnceAndCountedAgainWhenOld() async throws {
        let store = try await Self.store()
        try await Self.add(store, ca: "a", [(3, "device", false)])
        let kept = CertificateCounts(reports: CertificateReports(store: store), horizons: [7], maxAge: .seconds(3600))
        #expect(try await kept.current().expiring["a"] == [1])
        try await Self.add(store, ca: "a", [(4, "device", false)])
        // Young: the kept overview, without counting.
        #expect(try await kept.current().expiring["a"] == [1])
        #expect(try await kept.refreshed().expiring["a"] == [2])

        // Kept under another name: no count in the store for it, so its first reader waits for one.
        let eager = CertificateCounts(
            reports: CertificateReports(store: store),
            horizons: [7],
            maxAge: .zero,
            name: "eager"
        )
        let first = try await eager.current()
        #expect(first.expiring["a"] == [2])
        try await Self.add(store, ca: "a", [(5, "device", false)])
        // Old at once: the reader gets the last overview and a recount starts behind it.
        #expect(try await eager.current().expiring["a"] == [2])
        var latest = first
        for _ in 0..<200 where latest.expiring["a"] != [3] {
            try await Task.sleep(for: .milliseconds(25))
            latest = try await eager.current()
        }
        #expect(latest.expiring["a"] == [3] && latest.counted >= first.counted)
    }

    /// After a start the first reader gets the count kept in the store at once (its time says how old it
    /// is) while a recount runs; a count of other horizons is not taken for it.
    @Test func aStartServesTheCountKeptInTheStore() async throws {
        let store = try await Self.store()
        try await Self.add(store, ca: "a", [(3, "device", false)])
        let before = CertificateCounts(reports: CertificateReports(store: store), horizons: [7], maxAge: .seconds(3600))
        let counted = try await before.current()
        #expect(try await store.read { try $0.reportSnapshot(name: "dashboard") } != nil)
        try await Self.add(store, ca: "a", [(4, "device", false)])

        // "Restarted": a count that finishes within the time given (a generous one here, so that a loaded
        // machine cannot make it late) is what the first reader gets.
        let quick = CertificateCounts(
            reports: CertificateReports(store: store),
            horizons: [7],
            maxAge: .seconds(3600),
            freshWithin: .seconds(60)
        )
        #expect(try await quick.current().expiring["a"] == [2])
        // A reader gets a count as soon as it is made; keeping it in the store follows. Wait for that.
        #expect(try await quick.refreshed().expiring["a"] == [2])
        try await Self.add(store, ca: "a", [(5, "device", false)])
        // A count that cannot finish in time (none is waited for here): the kept count, not a new one.
        let after = CertificateCounts(
            reports: CertificateReports(store: store),
            horizons: [7],
            maxAge: .seconds(3600),
            freshWithin: .zero
        )
        let first = try await after.current()
        #expect(first.expiring["a"] == [2] && first.counted > counted.counted)
        // The recount it started brings the new certificate in.
        var latest = first
        for _ in 0..<200 where latest.expiring["a"] != [3] {
            try await Task.sleep(for: .milliseconds(25))
            latest = try await after.current()
        }
        #expect(latest.expiring["a"] == [3])

        // Other horizons: the kept count does not answer them; the first reader waits for its own.
        let other = CertificateCounts(reports: CertificateReports(store: store), horizons: [30], maxAge: .seconds(3600))
        #expect(try await other.current().horizons == [30])
    }
}
