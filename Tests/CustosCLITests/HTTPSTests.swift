import CustosTestSupport
import Foundation
import Testing

/// HTTPS with the server key in the HSM, end to end: `custos tls init` makes the key and a certificate
/// signed in the HSM, `custos serve` answers TLS 1.2 and 1.3 handshakes signed through the pool, and
/// with a client CA configured it refuses clients without a certificate from that CA.
@Suite struct HTTPSTests {
    @Test func theServerKeyLivesInTheHSMAndSignsTheHandshake() async throws {
        let directory = try makeTemporaryDirectory("https")
        let data = "\(directory)/.custos"
        let initialized = try custos(["tls", "init", "--data-dir", data, "--self-signed"], directory: directory)
        #expect(initialized.status == 0, "\(initialized.stderr)")
        #expect(initialized.stdout.contains("generated custos-tls (ec-p256) in the HSM"), "\(initialized.stdout)")
        let csr = try runCommand("openssl", ["req", "-in", "\(data)/tls.csr", "-verify", "-noout", "-text"])
        #expect(csr.stderr.contains("verify OK") || csr.stdout.contains("verify OK"), "\(csr.stderr)")
        #expect(csr.stdout.contains("DNS:localhost"))

        // A second run keeps the key (a new one would orphan certificates already issued for it).
        let again = try custos(["tls", "init", "--data-dir", data], directory: directory)
        #expect(again.stdout.contains("using the existing key custos-tls"), "\(again.stdout)")

        let chain = "\(data)/tls-chain.pem"
        try "tls:\n  certificateChain: \(chain)\n".write(
            toFile: "\(data)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let server = try ServeProcess(["--port", "0", "--log-level", "debug"], directory: directory)
        #expect(try await server.waitFor("press Ctrl-C to stop"), "\(server.text)")
        let port = try #require(
            server.text.split(separator: "serving HTTPS on 127.0.0.1:").last?.prefix { $0.isNumber }
        )
        #expect(server.text.contains("signing keys in the store: 0"), "service keys are not API keys")

        for version in ["--tlsv1.2", "--tlsv1.3"] {
            let health = try runCommand(
                "curl",
                ["-sS", version, "--cacert", chain, "https://localhost:\(port)/v1/health"]
            )
            #expect(health.stdout == #"{"status":"alive"}"#, "\(version): \(health.stderr)")
        }
        // Structured logs: the request's JSON log line carries the id the response header gave.
        let traced = try runCommand("curl", ["-sS", "-i", "--cacert", chain, "https://localhost:\(port)/v1/ready"])
        let requestID = try #require(
            traced.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }?
                .split(separator: " ").last.map(String.init)
        )
        #expect(try await server.waitFor(#""hb.request.id":"\#(requestID)""#), "\(server.text)")
        let line = try #require(server.text.split(separator: "\n").first { $0.contains(requestID) })
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(object?["level"] as? String == "debug")
        let metadata = object?["metadata"] as? [String: Any]
        #expect(metadata?["route"] as? String == "/v1/ready" && metadata?["status"] as? String == "200")
        let untrusted = try runCommand("curl", ["-sS", "https://localhost:\(port)/v1/health"])
        #expect(untrusted.status != 0, "curl trusted a self-signed certificate without --cacert")
        let handshake = try runCommand(
            "openssl",
            ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", chain, "-tls1_3"],
            input: Data()
        )
        #expect(handshake.stdout.contains("Verify return code: 0 (ok)"), "\(handshake.stdout)")

        // The API does not offer the TLS key to anyone, not even an administrator.
        let admin = try String(contentsOfFile: "\(data)/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let hidden = try runCommand(
            "curl",
            [
                "-s", "--cacert", chain, "-H", "Authorization: Bearer \(admin)",
                "https://localhost:\(port)/v1/keys/custos-tls",
            ]
        )
        #expect(hidden.stdout.contains("unknown_key"), "\(hidden.stdout)")
        #expect(try await server.stop(SIGTERM) == 0)
    }

    @Test func withAClientCAEveryClientNeedsACertificateFromIt() async throws {
        let directory = try makeTemporaryDirectory("mtls")
        let data = "\(directory)/.custos"
        #expect(try custos(["tls", "init", "--data-dir", data, "--self-signed"], directory: directory).status == 0)
        // The client side: a CA and a client certificate of the test (software keys of the client).
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments, currentDirectory: directory)
            #expect(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-subj", "/CN=Line Clients", "-days", "1", "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=critical,keyCertSign",
        ])
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out",
            "client.csr", "-subj", "/CN=line-7",
        ])
        try "extendedKeyUsage=clientAuth\n".write(toFile: "\(directory)/client.ext", atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-out", "client.pem", "-days",
            "1",
            "-extfile", "client.ext",
        ])
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key",
            "-out", "other.pem", "-subj", "/CN=Someone Else", "-days", "1",
        ])
        let chain = "\(data)/tls-chain.pem"
        try "tls:\n  certificateChain: \(chain)\n  clientCA: \(directory)/ca.pem\n"
            .write(toFile: "\(data)/custos.yaml", atomically: true, encoding: .utf8)
        let server = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await server.waitFor("press Ctrl-C to stop"), "\(server.text)")
        #expect(server.text.contains("serving HTTPS (mTLS)"))
        let port = try #require(server.text.split(separator: "127.0.0.1:").last?.prefix { $0.isNumber })
        let url = "https://localhost:\(port)/v1/health"

        let withCertificate = try runCommand(
            "curl",
            ["-sS", "--cacert", chain, "--cert", "\(directory)/client.pem", "--key", "\(directory)/client.key", url]
        )
        #expect(withCertificate.stdout == #"{"status":"alive"}"#, "\(withCertificate.stderr)")
        let without = try runCommand("curl", ["-sS", "--cacert", chain, url])
        #expect(without.status != 0 && !without.stdout.contains("alive"), "\(without.stdout)")
        let foreign = try runCommand(
            "curl",
            ["-sS", "--cacert", chain, "--cert", "\(directory)/other.pem", "--key", "\(directory)/other.key", url]
        )
        #expect(foreign.status != 0 && !foreign.stdout.contains("alive"), "\(foreign.stdout)")
        #expect(try await server.stop(SIGTERM) == 0)
    }

    @Test func aChainThatDoesNotCertifyTheHSMKeyIsRefusedAtStart() async throws {
        let directory = try makeTemporaryDirectory("https-bad")
        let data = "\(directory)/.custos"
        #expect(try custos(["tls", "init", "--data-dir", data], directory: directory).status == 0)
        let other = try runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/x.key", "-out", "\(directory)/x.pem", "-subj", "/CN=x", "-days", "1",
            ]
        )
        #expect(other.status == 0)
        try "tls:\n  certificateChain: \(directory)/x.pem\n"
            .write(toFile: "\(data)/custos.yaml", atomically: true, encoding: .utf8)
        let server = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await server.waitFor("press Ctrl-C to stop") == false, "\(server.text)")
        let status = try await server.stop(SIGTERM)
        #expect(status != 0)
        #expect(server.text.contains("does not certify the HSM key custos-tls"), "\(server.text)")
    }
}
