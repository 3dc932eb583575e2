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
        defer { replica.stop() }
        let replicaURL = replica.url(database: name)
        let directory = try makeTemporaryDirectory("replica-ocsp")
        let node = try ClusterNode(store: url, directory: directory)
        try await node.started()

        let created = try await node.call(
            "POST",
            "/v1/cas",
            ["id": "site", "subject": "CN=site", "algorithm": "ec-p256"]
        )
        #expect(created.status == 201, "\(created.text)")
        let caPath = "\(directory)/site.pem"
        try (created.json["certificate"] as? String ?? "").write(toFile: caPath, atomically: true, encoding: .utf8)
        let csr = try await runClient(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/leaf.key", "-subj", "/CN=leaf",
            ]
        )
        let issued = try await node.call(
            "POST",
            "/v1/cas/site/certificates",
            ["csr": csr.stdout, "category": "device"]
        )
        #expect(issued.status == 201, "\(issued.text)")
        let serial = try #require(issued.json["serial"] as? String)
        let leafPath = "\(directory)/leaf.pem"
        try (issued.json["certificate"] as? String ?? "").write(toFile: leafPath, atomically: true, encoding: .utf8)

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
        while !answer.contains("\(leafPath): revoked"), ContinuousClock.now - since < .seconds(10) {
            try await Task.sleep(for: .milliseconds(50))
            answer = try await ask()
        }
        #expect(answer.contains("\(leafPath): revoked") && answer.contains("Response verify OK"), "\(answer)")
        // The operator guide states a second (replication on one host takes milliseconds).
        #expect(ContinuousClock.now - since < .seconds(1))

        // custos serve needs the primary.
        let refused = try await custosClient(
            ["serve", "--port", "0", "--store", replicaURL, "--data-dir", "\(directory)/.custos"],
            environment: ["SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath]
        )
        #expect(refused.status != 0 && refused.stderr.contains("read-only replica"), "\(refused.stderr)")

        #expect(try await responder.stop(SIGTERM) == 0, "\(responder.text)")
        #expect(try await node.stop() == 0)
    }
}
