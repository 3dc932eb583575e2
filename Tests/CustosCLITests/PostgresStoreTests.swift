import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Custos on PostgreSQL from the command line: a writer killed with SIGKILL loses no acknowledged write,
/// `custos serve --store` serves and a second node sees what the first stored, `store verify` and
/// `audit verify` check the shared store.
@Suite struct PostgresStoreTests {
    @Test func acknowledgedWritesSurviveSIGKILLOnPostgreSQL() async throws {
        let url = try await PostgresServer.shared().newDatabase()
        let directory = try makeTemporaryDirectory("pg-crash")
        var acknowledged = Set<Int>()
        for _ in 0..<4 {
            acknowledged.formUnion(
                try await exerciseUntilKilled(
                    ["--data-dir", directory, "--store", url, "--writers", "8"],
                    after: .milliseconds(Int.random(in: 600...1000))
                )
            )
        }
        let store = try await PostgresBackend.open(try PostgresLocation(url: url), types: CustosStore.recordTypes)
        defer { store.shutdown() }
        let wanted = acknowledged
        let missing = try await store.read { reader in
            try wanted.filter { index in
                let serial = withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
                return try reader.certificate(issuer: "exercise", serial: serial) == nil
            }
        }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.sorted().prefix(10))")
        #expect(acknowledged.count > 50, "the writer acknowledged only \(acknowledged.count) writes")
        let verified = try await custosClient(["store", "verify", "--store", url])
        #expect(
            verified.status == 0 && verified.stdout.contains("store is consistent"),
            "\(verified.stdout) \(verified.stderr)"
        )
        let audit = try await custosClient(["audit", "verify", "--store", url])
        #expect(audit.status == 0 && audit.stdout.contains("audit chain intact"), "\(audit.stdout) \(audit.stderr)")
    }

    @Test func aStoreURLThatIsWrongIsAClearError() async throws {
        let directory = try makeTemporaryDirectory("pg-bad")
        let notURL = try await custosClient(["store", "verify", "--data-dir", directory, "--store", "/var/lib/custos"])
        #expect(notURL.status != 0 && notURL.stderr.contains("postgres://"), "\(notURL.stderr)")
        let noDatabase = try await custosClient(["store", "verify", "--store", "postgres://custos@127.0.0.1:1"])
        #expect(noDatabase.status != 0 && noDatabase.stderr.contains("names no database"), "\(noDatabase.stderr)")
        let nobody = try await custosClient(["store", "verify", "--store", "postgres://custos@127.0.0.1:1/custos"])
        #expect(nobody.status != 0 && nobody.stderr.contains("cannot connect to PostgreSQL"), "\(nobody.stderr)")
        let backup = try await custosClient([
            "store", "backup", "--store", "postgres://custos@127.0.0.1:1/custos", directory + "/b",
        ])
        #expect(backup.status != 0)
    }

    @Test func twoServeNodesShareOnePostgreSQLStoreAndOneToken() async throws {
        let url = try await PostgresServer.shared().newDatabase()
        let directory = try makeTemporaryDirectory("pg-nodes")
        let environment = ["SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath]
        let a = try ServeProcess(["--port", "0", "--store", url], directory: directory, environment: environment)
        #expect(try await a.waitFor("press Ctrl-C to stop"), "\(a.text)")
        #expect(a.text.contains("store: PostgreSQL at custos@127.0.0.1"), "\(a.text)")
        let b = try ServeProcess(["--port", "0", "--store", url], directory: directory, environment: environment)
        #expect(try await b.waitFor("press Ctrl-C to stop"), "\(b.text)")
        let admin = try String(contentsOfFile: "\(directory)/.custos/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func port(_ node: ServeProcess) throws -> String {
            guard let port = node.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix(while: \.isNumber)
            else {
                throw TestSupportError("no port in \(node.text)")
            }
            return String(port)
        }
        func call(_ node: ServeProcess, _ method: String, _ path: String, _ body: String? = nil) async throws -> String
        {
            var arguments = ["-s", "-X", method, "-H", "Authorization: Bearer \(admin)", "-w", "\n%{http_code}"]
            if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
            return try await runClient("curl", arguments + ["http://127.0.0.1:\(try port(node))\(path)"]).stdout
        }
        // The administrator credential node A made works on node B: one credential table.
        #expect(try await call(b, "GET", "/v1/keys").hasSuffix("200"))
        // A key made through node A is usable through node B without a restart.
        let created = try await call(a, "POST", "/v1/keys", #"{"name":"line-1","algorithm":"ec-p256"}"#)
        #expect(created.hasSuffix("201"), "\(created)")
        let csr = try await call(b, "POST", "/v1/keys/line-1/csr", #"{"subject":"CN=line 1"}"#)
        #expect(csr.hasSuffix("200") && csr.contains("BEGIN CERTIFICATE REQUEST"), "\(csr)")
        #expect(try await call(b, "GET", "/v1/keys").contains("line-1"))
        // Disabled through A: B refuses it once it has seen the keys' change stamp (250 ms nominal; the
        // bound here allows for requests that take seconds each while the whole suite loads the machine).
        #expect(try await call(a, "POST", "/v1/keys/line-1/disable").hasSuffix("200"))
        let disabledAt = ContinuousClock.now
        var refused = ""
        while ContinuousClock.now - disabledAt < .seconds(30) {
            refused = try await call(b, "POST", "/v1/keys/line-1/csr", #"{"subject":"CN=line 1"}"#)
            if !refused.hasSuffix("200") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(!refused.hasSuffix("200") && refused.contains("disabled"), "\(refused)")
        #expect(ContinuousClock.now - disabledAt < .seconds(15))
        #expect(try await a.stop(SIGTERM) == 0)
        #expect(try await b.stop(SIGTERM) == 0)
        // One audit chain for both nodes, signed checkpoints from both, and consistent indexes.
        let audit = try await custosClient(["audit", "verify", "--store", url])
        #expect(audit.status == 0 && audit.stdout.contains("audit chain intact"), "\(audit.stdout) \(audit.stderr)")
        let verified = try await custosClient(["store", "verify", "--store", url])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
    }
}
