import CustosTestSupport
import Foundation
import Testing
import WorkerThreads

/// `custos ocsp serve --store postgres://<replica>`: an OCSP responder in another site, answering from a
/// streaming replica of the primary and signing with the keys on its token. A revocation on the primary
/// is answered `revoked` there within the replication lag; nothing is written to the replica, and
/// `custos serve` refuses it.
@Suite struct ReplicaOCSPTests {
    @Test func aResponderOnAReplicaAnswersWhatThePrimaryRevoked() async throws {
        let primary = try await PostgresServer.shared()
        let url = try await primary.newDatabase()
        let name = String(url.split(separator: "/").last ?? "")
        let replica = try await runOnDedicatedThread(name: "custos-test-replica") {
            try PostgresServer(replicaOf: primary, port: freeLoopbackPort())
        }
        defer { replica.stopInBackground() }
        let replicaURL = replica.url(database: name)
        let directory = try makeTemporaryDirectory("replica-ocsp")
        let node = try ClusterNode(store: url, directory: directory)
        try await node.started()

        let caPath = try await node.makeCA("site")
        let (leafPath, serial) = try await node.issue(ca: "site", name: "leaf")

        let responder = try ServeProcess(
            ["--port", "0", "--store", replicaURL],
            directory: directory,
            environment: ["SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath],
            command: ["ocsp", "serve"]
        )
        #expect(try await responder.waitFor("press Ctrl-C to stop"), "\(responder.text)")
        #expect(responder.text.contains("read-only replica"), "\(responder.text)")
        let port = try #require(
            responder.text.split(separator: "serving OCSP over HTTP on 127.0.0.1:").last?.prefix { $0.isNumber }
        )
        func ask() async throws -> String {
            let result = try await runClient(
                "openssl",
                [
                    "ocsp", "-issuer", caPath, "-cert", leafPath, "-CAfile", caPath, "-url",
                    "http://127.0.0.1:\(port)/ocsp",
                ]
            )
            return result.stdout + result.stderr
        }
        // The certificate reached the replica (it may lag a little behind the primary).
        var answer = try await ask()
        for _ in 0..<40 where !answer.contains("\(leafPath): good") {
            try await Task.sleep(for: .milliseconds(100))
            answer = try await ask()
        }
        #expect(answer.contains("Response verify OK") && answer.contains("\(leafPath): good"), "\(answer)")

        // Revoked on the primary: the replica's responder says so within the replication lag.
        let revoked = try await node.call(
            "POST",
            "/v1/cas/site/certificates/\(serial)/revoke",
            ["reason": "superseded"]
        )
        #expect(revoked.status == 200, "\(revoked.text)")
        let since = ContinuousClock.now
        answer = try await ask()
        while !answer.contains("\(leafPath): revoked"), ContinuousClock.now - since < .seconds(15) {
            try await Task.sleep(for: .milliseconds(50))
            answer = try await ask()
        }
        // Within 15 s: replication on one host takes milliseconds and the responder refuses (tryLater) when
        // behind by more than its lag bound; the rest is the loaded machine's time for each openssl request.
        #expect(answer.contains("\(leafPath): revoked") && answer.contains("Response verify OK"), "\(answer)")

        // custos serve needs the primary.
        let refused = try await custosClient(
            ["serve", "--port", "0", "--store", replicaURL, "--data-dir", "\(directory)/.custos"],
            environment: ["SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath]
        )
        #expect(refused.status != 0 && refused.stderr.contains("read-only replica"), "\(refused.stderr)")

        #expect(try await responder.stop(SIGTERM) == 0, "\(responder.text)")
        #expect(try await node.stop() == 0)
        try await replica.stopAndWait()
    }

    /// A replica cut off from its primary answers `tryLater` rather than from what it has, and answers
    /// again once WAL flows.
    @Test func aReplicaCutOffFromItsPrimaryAnswersTryLater() async throws {
        let primary = try await runOnDedicatedThread(name: "custos-test-primary") {
            try PostgresServer(port: freeLoopbackPort())
        }
        defer { primary.stopInBackground() }
        let replica = try await runOnDedicatedThread(name: "custos-test-replica") {
            try PostgresServer(replicaOf: primary, port: freeLoopbackPort())
        }
        defer { replica.stopInBackground() }
        let directory = try makeTemporaryDirectory("replica-cut")
        let node = try ClusterNode(store: primary.url, directory: directory)
        try await node.started()
        let caPath = try await node.makeCA("site")
        let (leafPath, _) = try await node.issue(ca: "site", name: "leaf")
        let responder = try ServeProcess(
            ["--port", "0", "--store", replica.url, "--max-replica-lag", "2"],
            directory: directory,
            environment: ["SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath],
            command: ["ocsp", "serve"]
        )
        #expect(try await responder.waitFor("press Ctrl-C to stop"), "\(responder.text)")
        let port = try #require(
            responder.text.split(separator: "serving OCSP over HTTP on 127.0.0.1:").last?.prefix { $0.isNumber }
        )
        func ask(until wanted: String, within limit: Duration) async throws -> String {
            let started = ContinuousClock.now
            var answer = ""
            repeat {
                let result = try await runClient(
                    "openssl",
                    [
                        "ocsp", "-issuer", caPath, "-cert", leafPath, "-CAfile", caPath, "-url",
                        "http://127.0.0.1:\(port)/ocsp",
                    ]
                )
                answer = result.stdout + result.stderr
                if answer.contains(wanted) { break }
                try await Task.sleep(for: .milliseconds(200))
            } while ContinuousClock.now - started < limit
            return answer
        }
        let good = try await ask(until: "\(leafPath): good", within: .seconds(10))
        #expect(good.contains("\(leafPath): good"), "\(good)")

        // The primary goes away: WAL stops, the responder refuses within a check or two.
        try await primary.pause()
        let refused = try await ask(until: "trylater", within: .seconds(15))
        #expect(refused.lowercased().contains("trylater"), "\(refused)")
        #expect(responder.text.contains("OCSP answers refused"), "\(responder.text)")
        // Back: the replica streams again (it retries every 5 s) and the responder answers.
        try await primary.resume()
        let again = try await ask(until: "\(leafPath): good", within: .seconds(30))
        #expect(again.contains("\(leafPath): good"), "\(again)")
        #expect(responder.text.contains("the replica caught up"), "\(responder.text)")

        #expect(try await responder.stop(SIGTERM) == 0, "\(responder.text)")
        _ = try await node.stop(SIGKILL)
        try await replica.stopAndWait()
        try await primary.stopAndWait()
    }
}
