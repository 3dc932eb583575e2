import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Requests without a valid credential cost the store a bounded amount however many arrive: they are
/// counted by source, route pattern and reason and summarised in the audit log, while a valid
/// credential's refusal stays an entry of its own. Metrics count every refusal.
@Suite(.serialized, .stopsServers) struct AnonymousRefusalTests {
    /// The number of requests an `api.access.summary` outcome reports.
    static func count(in outcome: String) -> Int {
        // "denied: <reason>: <n> requests from …" or "denied: <n> more requests of other …"
        let words = outcome.split(separator: " ")
        guard let index = words.firstIndex(where: { $0.hasPrefix("request") || $0 == "more" }), index > 0 else {
            return 0
        }
        return Int(words[index - 1]) ?? 0
    }

    @Test func tenThousandAnonymousRequestsWithLongPathsCostTheStoreAFewEntries() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.refusalSummaryInterval = .seconds(1)
        let server = try await ServerFixture(configuration: configuration)
        let dataFile = "\(server.directory)/store/data.mdb"
        func storeBytes() throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: dataFile)[.size] as? Int) ?? 0
        }
        let auditBefore = try server.schema.auditHead()?.sequence ?? 0
        let bytesBefore = try storeBytes()
        let longName = String(repeating: "k", count: 8000)
        let total = 10_000
        let workers = 16
        let session = URLSession(configuration: .ephemeral)
        let started = ContinuousClock.now
        let refused = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var count = 0
                    for index in stride(from: worker, to: total, by: workers) {
                        var request = URLRequest(
                            url: URL(string: "http://127.0.0.1:\(server.port)/v1/keys/\(longName)\(index)/sign")!
                        )
                        request.httpMethod = "POST"
                        // Half with no credential, half with one that does not exist.
                        if index % 2 == 1 {
                            request.setValue("Bearer cst_nope\(index)", forHTTPHeaderField: "Authorization")
                        }
                        let (_, response) = try await session.data(for: request)
                        if (response as? HTTPURLResponse)?.statusCode == 401 { count += 1 }
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(refused == total)
        // A valid credential refused a key: an entry of its own, with the path (cut) it asked for.
        let signer = try await server.credential(.signer, keys: ["lab-*"])
        let forbidden = try await server.request("POST", "/v1/keys/prod-\(longName)/sign", token: signer, json: [:])
        #expect(forbidden.status == 403)

        // The summary is written within the interval.
        var summaries: [AuditEntry] = []
        for _ in 0..<50 where summaries.map({ Self.count(in: $0.event.outcome) }).reduce(0, +) < total {
            try await Task.sleep(for: .milliseconds(200))
            summaries = try server.schema.environment.read { txn in
                try txn.records(AuditEntry.self, after: Key().appending(auditBefore), limit: .max, in: server.schema)
            }
            .filter { $0.event.action == "api.access.summary" }
        }
        #expect(summaries.map { Self.count(in: $0.event.outcome) }.reduce(0, +) == total, "\(summaries.map(\.event))")
        // One entry per kind (here one source and route, two reasons) and interval (1 s in this test).
        let seconds = Int((ContinuousClock.now - started).components.seconds) + 2
        #expect(summaries.count <= 2 * seconds, "\(summaries.count) summary entries in \(seconds) s")
        #expect(
            summaries.allSatisfy { $0.event.object == "POST /v1/keys/{name}/sign" },
            "\(summaries.map(\.event.object))"
        )
        #expect(summaries.allSatisfy { !$0.event.outcome.contains(longName) && $0.event.outcome.utf8.count < 300 })
        let entries = try server.schema.environment.read { txn in
            try txn.records(AuditEntry.self, after: Key().appending(auditBefore), limit: .max, in: server.schema)
        }
        let individual = entries.filter { $0.event.action == "api.access" }
        #expect(individual.count == 1 && individual.first?.event.actor.hasPrefix("credential/") == true)
        #expect((individual.first?.event.object.utf8.count ?? 0) <= 600)
        // 10,000 requests of 8 KB paths: before, each was an entry of its own (over 80 MB).
        let growth = try storeBytes() - bytesBefore
        #expect(growth < 2 << 20, "the store grew by \(growth) bytes")

        let metrics = try await server.request("GET", "/metrics", token: server.adminToken)
        let line = metrics.text.split(separator: "\n").first { $0.hasPrefix("custos_access_denied{status=\"401\"}") }
        let counted = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(counted >= Double(total), "\(line ?? "no custos_access_denied for 401")")
    }
}
