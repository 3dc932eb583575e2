import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// `custos store migrate`: an LMDB store to PostgreSQL and back, checked record by record and by
/// `store verify` and `audit verify` on each copy; a non-empty target and wrong targets are refused.
@Suite struct StoreMigrationTests {
    @Test func anLMDBStoreMovesToPostgreSQLAndBack() async throws {
        let directory = try makeTemporaryDirectory("migrate")
        let acknowledged = try await exerciseUntilKilled(
            ["--data-dir", directory, "--writers", "4"],
            after: .milliseconds(800)
        )
        #expect(acknowledged.count > 20, "only \(acknowledged.count) writes")
        let url = try await PostgresServer.shared().newDatabase()

        let there = try await custosClient(["store", "migrate", "--data-dir", directory, "--to", url, "--batch", "100"])
        #expect(there.status == 0, "\(there.stdout) \(there.stderr)")
        #expect(there.stdout.contains("the copy matches the source"), "\(there.stdout)")
        for command in [["store", "verify"], ["audit", "verify"]] {
            let checked = try await custosClient(command + ["--store", url])
            #expect(checked.status == 0, "\(command): \(checked.stdout) \(checked.stderr)")
        }

        // Into it again: refused, and the target keeps what it has.
        let again = try await custosClient(["store", "migrate", "--data-dir", directory, "--to", url])
        #expect(again.status != 0 && again.stderr.contains("not empty"), "\(again.stderr)")

        // Back into a new data directory, and every acknowledged write is there.
        let home = directory + "/home"
        let back = try await custosClient(["store", "migrate", "--store", url, "--to", home])
        #expect(back.status == 0, "\(back.stdout) \(back.stderr)")
        let verified = try await custosClient(["store", "verify", "--data-dir", home])
        #expect(verified.status == 0 && verified.stdout.contains("store is consistent"), "\(verified.stdout)")
        let audit = try await custosClient(["audit", "verify", "--data-dir", home])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
        let (schema, writer) = try await CustosStore.open(dataDirectory: home)
        defer { writer.shutdown() }
        let wanted = acknowledged
        let missing = try await LMDBBackend(schema: schema, writer: writer).read { reader in
            try wanted.filter { index in
                let serial = withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
                return try reader.certificate(issuer: "exercise", serial: serial) == nil
            }
        }
        #expect(missing.isEmpty, "lost on the way: \(missing.sorted().prefix(10))")
        // Two migrations, each recorded in the chain it produced.
        let entries = try await LMDBBackend(schema: schema, writer: writer).read { reader in
            try reader.auditEntries(after: nil, limit: .max).filter { $0.event.action == "store.migrate" }.count
        }
        #expect(entries == 2)

        let wrong = try await custosClient(["store", "migrate", "--data-dir", directory, "--to", "mysql://x/y"])
        #expect(wrong.status != 0 && wrong.stderr.contains("postgres://"), "\(wrong.stderr)")
        let itself = try await custosClient(["store", "migrate", "--data-dir", directory, "--to", directory])
        #expect(itself.status != 0 && itself.stderr.contains("own data directory"), "\(itself.stderr)")
    }
}
