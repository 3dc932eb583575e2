import CustosTestSupport
import Foundation
import Testing

/// `custos ocsp serve`: the responder as a process of its own over the CA's store and token, asked by
/// `openssl ocsp` while `custos serve` issues and revokes.
@Suite struct OCSPServeTests {
    @Test func theResponderRunsAsItsOwnProcessOverTheCAStore() async throws {
        let directory = try makeTemporaryDirectory("ocsp-serve")
        // Delegated signers: the CA's process issues and rotates them, the responder signs with them.
        try FileManager.default.createDirectory(atPath: "\(directory)/.custos", withIntermediateDirectories: true)
        _ = try writeText(directory, ".custos/custos.yaml", "ocsp: { delegatedSigners: true }\n")
        let ca = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await ca.waitFor("press Ctrl-C to stop"), "\(ca.text)")
        let caPort = try #require(ca.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let admin = try String(contentsOfFile: "\(directory)/.custos/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        func call(_ method: String, _ path: String, _ body: [String: Any]) throws -> [String: Any] {
            let result = try runCommand(
                "curl",
                [
                    "-s", "-X", method, "-H", "Authorization: Bearer \(admin)", "-H", "Content-Type: application/json",
                    "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
                    "http://127.0.0.1:\(caPort)\(path)",
                ]
            )
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            return try #require(json, "\(path): \(result.stdout) \(result.stderr)")
        }
        /// A CA and one certificate it issued: the paths of their PEM files and the serial.
        func makeCA(_ id: String) throws -> (ca: String, leaf: String, serial: String) {
            let created = try call("POST", "/v1/cas", ["id": id, "subject": "CN=\(id)", "algorithm": "ec-p256"])
            let caPath = try writeText(directory, "\(id).pem", created["certificate"] as? String ?? "")
            let csr = try runCommand(
                "openssl",
                [
                    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                    "\(directory)/\(id)-leaf.key", "-subj", "/CN=leaf of \(id)",
                ]
            )
            let issued = try call("POST", "/v1/cas/\(id)/certificates", ["csr": csr.stdout, "category": "device"])
            let leafPath = try writeText(directory, "\(id)-leaf.pem", issued["certificate"] as? String ?? "")
            return (caPath, leafPath, issued["serial"] as? String ?? "")
        }
        let first = try makeCA("first")

        let responder = try ServeProcess(
            ["--port", "0", "--refresh-interval", "1"],
            directory: directory,
            command: ["ocsp", "serve"]
        )
        #expect(try await responder.waitFor("press Ctrl-C to stop"), "\(responder.text)")
        let port = try #require(
            responder.text.split(separator: "serving OCSP over HTTP on 127.0.0.1:").last?.prefix { $0.isNumber }
        )
        func ask(_ issued: (ca: String, leaf: String, serial: String)) throws -> String {
            let result = try runCommand(
                "openssl",
                [
                    "ocsp", "-issuer", issued.ca, "-cert", issued.leaf, "-CAfile", issued.ca, "-url",
                    "http://127.0.0.1:\(port)/ocsp", "-resp_text",
                ]
            )
            return result.stdout + result.stderr
        }
        let good = try ask(first)
        #expect(good.contains("Response verify OK") && good.contains("\(first.leaf): good"), "\(good)")

        // Only OCSP, health and metrics: the signing API and the CA are not there.
        let keys = try runCommand(
            "curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(admin)",
                "http://127.0.0.1:\(port)/v1/keys",
            ]
        )
        #expect(keys.stdout == "404", "\(keys.stdout)")
        let health = try runCommand("curl", ["-s", "http://127.0.0.1:\(port)/v1/ready"])
        #expect(health.stdout.contains(#""status":"ready""#), "\(health.stdout)")

        // Revoked through the CA: the responder answers revoked at once.
        _ = try call("POST", "/v1/cas/first/certificates/\(first.serial)/revoke", ["reason": "superseded"])
        let revoked = try ask(first)
        #expect(revoked.contains("\(first.leaf): revoked") && revoked.contains("Reason: superseded"), "\(revoked)")
        #expect(revoked.contains("Response verify OK"), "\(revoked)")

        // A CA created after the responder started: its key is found in the store on first use (a
        // request naming an issuer the responder lacks re-reads the CAs if their table changed).
        let second = try makeCA("second")
        let fresh = try ask(second)
        #expect(fresh.contains("Response verify OK") && fresh.contains("\(second.leaf): good"), "\(fresh)")
        // Once the CA's process has issued the second CA's delegated signer (its rotation pass runs every
        // 5 s), the responder process signs with it: a key it finds in the store, made by the other process.
        var signer: [String: Any] = [:]
        for _ in 0..<40 where signer["generation"] == nil {
            try await Task.sleep(for: .milliseconds(500))
            signer = try call("GET", "/v1/cas/second/ocsp-signer", [:])
        }
        #expect(signer["key"] as? String == "custos-ocsp-second-g1", "\(signer)")
        let delegated = try ask(second)
        #expect(delegated.contains("Subject: CN=second OCSP signer 1"), "\(delegated)")
        #expect(delegated.contains("Response verify OK") && delegated.contains("\(second.leaf): good"), "\(delegated)")

        // One process signs answers ahead: the CA's, which ranks first (its pool sees the issuance that
        // signing ahead steps aside for). When it stops, the responder takes over at its next check.
        func leaseHeld(_ port: Substring) throws -> Double? {
            let metrics = try runCommand(
                "curl",
                ["-s", "-H", "Authorization: Bearer \(admin)", "http://127.0.0.1:\(port)/metrics"]
            )
            let line = metrics.stdout.split(separator: "\n").first { $0.hasPrefix("custos_ocsp_sign_ahead_lease_held") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(try leaseHeld(caPort) == 1)
        #expect(try leaseHeld(port) == 0)
        #expect(
            responder.text.contains("another process on this store signs OCSP responses ahead"),
            "\(responder.text)"
        )
        #expect(try await ca.stop(SIGTERM) == 0)
        var tookOver = false
        for _ in 0..<40 where !tookOver {
            try await Task.sleep(for: .milliseconds(250))
            tookOver = try leaseHeld(port) == 1
        }
        #expect(tookOver, "\(responder.text)")
        #expect(responder.text.contains("this process signs OCSP responses ahead"), "\(responder.text)")

        #expect(try await responder.stop(SIGTERM) == 0, "\(responder.text)")
        #expect(responder.text.contains("received SIGTERM"))
        let audit = try custos(["audit", "show", "--data-dir", "\(directory)/.custos", "--action", "ocsp.start"])
        #expect(audit.stdout.contains("custos-ocsp"), "\(audit.stdout) \(audit.stderr)")
        let verify = try custos(["audit", "verify", "--data-dir", "\(directory)/.custos"])
        #expect(verify.status == 0, "both processes append to one intact chain: \(verify.stdout) \(verify.stderr)")
    }

    private func writeText(_ directory: String, _ name: String, _ text: String) throws -> String {
        let path = "\(directory)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
