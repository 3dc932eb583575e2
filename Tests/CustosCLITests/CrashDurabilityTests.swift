import CustosTestSupport
import Foundation
import MetadataStore
import Testing
import WorkerThreads

/// A writer killed with SIGKILL at random moments never loses an acknowledged write, and what is
/// stored stays consistent: indexes agree with records and the audit chain verifies.
@Suite struct CrashDurabilityTests {
    @Test func acknowledgedWritesSurviveSIGKILL() async throws {
        let directory = try makeTemporaryDirectory("crash")
        var acknowledged = Set<Int>()
        for _ in 0..<10 {
            acknowledged.formUnion(
                try await exerciseUntilKilled(
                    ["--data-dir", directory, "--writers", "16"],
                    after: .milliseconds(Int.random(in: 200...700))
                )
            )

            let (schema, writer) = try await CustosStore.open(dataDirectory: directory)
            // The checks read the whole store: on a thread of their own, not one of the cooperative pool's
            // two (servers of other tests in this process need them).
            let written = acknowledged
            let (missing, indexProblems, audit) = try await runOnDedicatedThread(name: "custos-test-crash-check") {
                let missing = try schema.environment.read { txn in
                    try written.filter { index in
                        let serial = withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
                        var key = Key().appending("exercise")
                        key.append(bytes: serial)
                        return try txn.record(CertificateRecord.self, key: key, in: schema) == nil
                    }
                }
                return (
                    missing, try schema.verifyIndexes(CustosStore.recordTypes).problems, try schema.verifyAudit()
                )
            }
            #expect(missing.isEmpty, "acknowledged but lost: \(missing.sorted().prefix(10))")
            #expect(indexProblems.isEmpty)
            #expect(audit.firstBroken == nil, "\(String(describing: audit.firstBroken))")
            #expect(audit.entries >= UInt64(acknowledged.count))
            writer.shutdown()
        }
        #expect(acknowledged.count > 50, "the writer acknowledged only \(acknowledged.count) writes")
    }
}
