import CustosTestSupport
import Foundation
import Synchronization
import Testing
import WorkerThreads

/// `scripts/run-cluster.sh` (`make run-cluster`): PostgreSQL, two nodes and HAProxy, under a load of
/// issuance, revocation, vault writes and signing through HAProxy. One node is killed with SIGKILL: the other serves
/// on and every request a client saw acknowledged is in the store. Then PostgreSQL restarts: requests
/// meanwhile fail with 503 `store_unavailable` (never another answer), and the nodes recover on their own.
@Suite struct HAProxyClusterTests {
    @Test func aKilledNodeLosesNothingAndAPostgreSQLRestartAnswers503() async throws {
        let directory = try makeTemporaryDirectory("cluster")
        // Ten ports in a row for HAProxy (base), the nodes (base+1, +2) and its statistics (base+9).
        let base = 20_000 + Int.random(in: 0..<4_000) * 10
        let cluster = try ClusterScript(directory: directory, port: base, postgresPort: try freeLoopbackPort())
        defer { cluster.signalStop() }
        try await cluster.started()
        let api = "http://127.0.0.1:\(base)"
        let admin = try String(contentsOfFile: "\(directory)/node/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let client = LoadClient(api: api, token: admin)

        for (path, body) in [
            ("/v1/cas", ["id": "line", "subject": "CN=line", "algorithm": "ec-p256"]),
            ("/v1/keys", ["name": "signer", "algorithm": "ec-p256"]), ("/v1/vault", ["name": "plant"]),
        ] {
            let (status, json) = try await client.send("POST", path, body)
            try #require(status == 201, "\(path): \(status) \(json)")
        }
        // Signing needs a signer credential (an administrator cannot sign).
        let (made, signer) = try await client.send("POST", "/v1/credentials", ["role": "signer", "keys": ["signer"]])
        try #require(made == 201, "\(signer)")
        client.signerToken.withLock { $0 = signer["token"] as? String ?? "" }
        let csr = try await newCSR(in: directory, name: "device")

        let load = Task { try await client.run(workers: 4, csr: csr) }
        defer { client.stop() }
        // Load until a dozen requests went through (on a loaded machine that takes longer than on an idle one).
        let loading = ContinuousClock.now
        while client.acknowledged < 12, ContinuousClock.now - loading < .seconds(60) {
            try await Task.sleep(for: .milliseconds(200))
        }
        // SIGKILL one node under load.
        let victim = try #require(try await cluster.nodePID(base + 1))
        kill(victim, SIGKILL)
        client.mark("killed")
        try await Task.sleep(for: .seconds(7))
        client.mark("settled")
        try await Task.sleep(for: .seconds(3))
        // PostgreSQL restarts under load.
        client.mark("database down")
        try await cluster.postgres("stop", "-m", "fast")
        try await Task.sleep(for: .seconds(3))
        try await cluster.postgres(
            "start",
            "-w",
            "-o",
            "-p \(cluster.postgresPort) -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        )
        client.mark("database back")
        try await Task.sleep(for: .seconds(10))
        client.stop()
        let outcomes = try await load.value

        // Before the kill and once HAProxy had taken the node out, every request succeeded.
        let phases = Dictionary(grouping: outcomes, by: \.phase)
        // Only requests answered before the database went down (a slow one can end after it).
        let settled = phases["settled", default: []].filter { $0.endPhase == "settled" }
        #expect(
            !settled.isEmpty && settled.allSatisfy(\.acknowledged),
            "\(settled.filter { !$0.acknowledged }.prefix(5))"
        )
        #expect(phases["start", default: []].filter(\.acknowledged).count >= 12)
        // While the database was away: acknowledged, or 503 store_unavailable; nothing else from Custos
        // (502/503 without a body are HAProxy's for requests cut off with the killed node, before).
        let down = phases["database down", default: []]
        let refused = down.filter { !$0.acknowledged }
        #expect(refused.contains { $0.status == 503 && $0.code == "store_unavailable" }, "\(down.prefix(10))")
        #expect(refused.allSatisfy { $0.status == 503 && $0.code == "store_unavailable" }, "\(refused.prefix(10))")
        // Back on their own: the last requests succeed again without restarting a node.
        let back = phases["database back", default: []]
        let tail = back.suffix(back.count / 2)
        #expect(!tail.isEmpty && tail.allSatisfy(\.acknowledged), "\(tail.filter { !$0.acknowledged }.prefix(5))")

        // Everything acknowledged is there: certificates and vault versions read back through HAProxy.
        var missing: [String] = []
        for outcome in outcomes where outcome.acknowledged {
            switch outcome.operation {
            case .issue(let serial):
                if try await client.send("GET", "/v1/cas/line/certificates/\(serial)").0 != 200 {
                    missing.append(serial)
                }
            case .revoke(let serial):
                let (status, json) = try await client.send("GET", "/v1/cas/line/certificates/\(serial)")
                if status != 200 || json["status"] as? String != "revoked" { missing.append("revocation of \(serial)") }
            case .write(let path, let text):
                let (status, json) = try await client.send("GET", "/v1/vault/plant/secrets/\(path)")
                if status != 200 || json["text"] as? String != text { missing.append(path) }
            case .sign: break
            }
        }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(10))")
        let acknowledged = outcomes.filter(\.acknowledged)
        #expect(acknowledged.contains { if case .sign = $0.operation { true } else { false } })
        #expect(acknowledged.contains { if case .revoke = $0.operation { true } else { false } })
        for command in [["store", "verify"], ["audit", "verify"]] {
            let checked = try await custosClient(command + ["--store", cluster.storeURL])
            #expect(checked.status == 0, "\(command): \(checked.stdout) \(checked.stderr)")
        }
        try await cluster.stop()
    }
}

/// `scripts/run-cluster.sh` as a child process, its output in a file (PostgreSQL's server, a daemon,
/// inherits it; a pipe would never close).
final class ClusterScript: Sendable {
    let directory: String
    let postgresPort: Int
    let process: Process
    var storeURL: String { "postgres://custos@127.0.0.1:\(postgresPort)/postgres" }
    var log: String { "\(directory)/run-cluster.out" }

    init(directory: String, port: Int, postgresPort: Int) throws {
        self.directory = directory
        self.postgresPort = postgresPort
        _ = FileManager.default.createFile(atPath: "\(directory)/run-cluster.out", contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/run-cluster.out"))
        process = Process()
        // Through Python, which clears the signal mask the test process's thread passes on (bash cannot
        // unblock a signal, and the script's SIGTERM trap must run).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c",
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
            "/bin/bash", "\(repositoryRoot)/scripts/run-cluster.sh",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["CLUSTER_DIR"] = directory
        environment["CLUSTER_PORT"] = "\(port)"
        environment["CLUSTER_PG_PORT"] = "\(postgresPort)"
        environment["CUSTOS_BINARY"] = custosBinary
        // Nodes are killed, never the database's host: its fsyncs would only load the other tests' disk.
        environment["CLUSTER_PG_OPTIONS"] = "-c fsync=off"
        environment["CUSTOS_PROFILES_DIR"] = "\(repositoryRoot)/HSMProfiles"
        environment.removeValue(forKey: "SOFTHSM2_CONF")
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try output.close()
    }

    var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func started() async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if text.contains("press Ctrl-C to stop") { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestSupportError("the cluster did not start: \(text)")
    }

    /// The pid of the node serving on `port`.
    func nodePID(_ port: Int) async throws -> Int32? {
        let found = try await runClient("pgrep", ["-f", "custos serve --data-dir \(directory)/node .*--port \(port)"])
        return found.stdout.split(separator: "\n").first.flatMap { Int32($0) }
    }

    /// `pg_ctl` on the cluster's database, as its owner.
    func postgres(_ arguments: String...) async throws {
        let pgCtl = "/usr/lib/postgresql/15/bin/pg_ctl"
        let command = getuid() == 0 ? ["runuser", "-u", "postgres", "--", pgCtl] : [pgCtl]
        let result = try await runClient(
            "/usr/bin/python3",
            [
                "-c",
                "import signal, subprocess, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                    + "sys.exit(subprocess.run(sys.argv[1:], close_fds=True, "
                    + "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode)",
            ] + command + ["-D", "\(directory)/postgres", "-l", "\(directory)/postgres/server.log"] + arguments
        )
        guard result.status == 0 else { throw TestSupportError("pg_ctl \(arguments) failed: \(result.stderr)") }
    }

    /// Asks the script to stop (SIGTERM) without waiting: for a `defer` in the async test, which must not
    /// hold a cooperative thread while the script stops the nodes, HAProxy and PostgreSQL.
    func signalStop() {
        if process.isRunning { process.terminate() }
    }

    /// Stops the script and waits for it on a thread of its own.
    func stop() async throws {
        let process = process
        try await runOnDedicatedThread(name: "custos-test-cluster-stop") {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }
}

/// Clients sending a mix of issuance, vault writes and signatures through HAProxy, each request's
/// outcome noted with the phase it started in.
final class LoadClient: Sendable {
    enum Operation: Sendable, CustomStringConvertible {
        case issue(serial: String)
        case revoke(serial: String)
        case write(path: String, text: String)
        case sign
        var description: String {
            switch self {
            case .issue(let serial): "issue \(serial)"
            case .revoke(let serial): "revoke \(serial)"
            case .write(let path, _): "write \(path)"
            case .sign: "sign"
            }
        }
    }

    struct Outcome: Sendable, CustomStringConvertible {
        /// The phase the request was sent in, and the one it was answered in.
        var phase: String
        var endPhase = ""
        var status: Int
        var code: String?
        var operation: Operation
        var acknowledged: Bool { (200..<300).contains(status) }
        var description: String { "\(phase): \(operation) → \(status) \(code ?? "")" }
    }

    let api: String
    let token: String
    let signerToken = Mutex("")
    private let state = Mutex<(phase: String, running: Bool, outcomes: [Outcome], toRevoke: [String])>(
        ("start", true, [], [])
    )

    init(api: String, token: String) {
        self.api = api
        self.token = token
    }

    func mark(_ phase: String) { state.withLock { $0.phase = phase } }
    var acknowledged: Int { state.withLock { $0.outcomes.filter(\.acknowledged).count } }
    func stop() { state.withLock { $0.running = false } }

    /// One request through curl (on its own thread); the status and the JSON body.
    func send(_ method: String, _ path: String, _ body: [String: Any]? = nil, as bearer: String? = nil) async throws
        -> (Int, [String: Any])
    {
        var arguments = [
            "-s", "--max-time", "30", "-X", method, "-H", "Authorization: Bearer \(bearer ?? token)", "-w",
            "\n%{http_code}",
        ]
        if let body {
            arguments += [
                "-H", "Content-Type: application/json", "--data-binary",
                String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
            ]
        }
        let result = try await runClient("curl", arguments + [api + path])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let text = lines.dropLast().joined(separator: "\n")
        return (status, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:])
    }

    /// The `error.code` of an error answer.
    static func code(_ json: [String: Any]) -> String? { (json["error"] as? [String: Any])?["code"] as? String }

    /// Runs `workers` loops until `stop`; returns every outcome.
    func run(workers: Int, csr: String) async throws -> [Outcome] {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var round = 0
                    while self.state.withLock({ $0.running }) {
                        round += 1
                        let phase = self.state.withLock { $0.phase }
                        let outcome: Outcome
                        let revocable = (worker + round) % 4 == 3 ? self.state.withLock { $0.toRevoke.popLast() } : nil
                        switch revocable.map({ _ in 3 }) ?? (worker + round) % 3 {
                        case 3:
                            let serial = revocable ?? ""
                            let (status, json) = try await self.send(
                                "POST",
                                "/v1/cas/line/certificates/\(serial)/revoke",
                                ["reason": "superseded"]
                            )
                            outcome = Outcome(
                                phase: phase,
                                status: status,
                                code: Self.code(json),
                                operation: .revoke(serial: serial)
                            )
                        case 0:
                            let (status, json) = try await self.send(
                                "POST",
                                "/v1/cas/line/certificates",
                                ["csr": csr, "category": "device"]
                            )
                            outcome = Outcome(
                                phase: phase,
                                status: status,
                                code: Self.code(json),
                                operation: .issue(serial: json["serial"] as? String ?? "")
                            )
                        case 1:
                            let path = "w\(worker)/r\(round)"
                            let (status, json) = try await self.send(
                                "PUT",
                                "/v1/vault/plant/secrets/\(path)",
                                ["text": "value \(worker) \(round)"]
                            )
                            outcome = Outcome(
                                phase: phase,
                                status: status,
                                code: Self.code(json),
                                operation: .write(path: path, text: "value \(worker) \(round)")
                            )
                        default:
                            let (status, json) = try await self.send(
                                "POST",
                                "/v1/keys/signer/sign",
                                ["data": Data("round \(round)".utf8).base64EncodedString()],
                                as: self.signerToken.withLock { $0 }
                            )
                            outcome = Outcome(phase: phase, status: status, code: Self.code(json), operation: .sign)
                        }
                        self.state.withLock {
                            var outcome = outcome
                            outcome.endPhase = $0.phase
                            $0.outcomes.append(outcome)
                            if case .issue(let serial) = outcome.operation, outcome.acknowledged {
                                $0.toRevoke.append(serial)
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        return state.withLock { $0.outcomes }
    }
}
