import CustosTestSupport
import Foundation
import Testing

@Suite struct ServeCommandTests {
    @Test func firstStartCreatesTheDevTokenAndPINsAndSecondStartReusesThem() async throws {
        let directory = try makeTemporaryDirectory("serve")
        let first = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await first.waitFor("press Ctrl-C to stop"), "\(first.text)")
        #expect(first.text.contains("created token \"custos-dev\""))
        #expect(first.text.contains("CKM_ECDSA"))
        #expect(first.text.contains("session pool: 2 sessions"))
        #expect(first.text.contains("0 audit entries, chain intact"))
        #expect(first.text.contains("0 signed checkpoints verified with the HSM audit key"))
        for pin in ["so.pin", "user.pin"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/.custos/\(pin)")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(pin)")
            #expect(first.text.contains(".custos/\(pin)"))
        }
        let userPIN = try String(contentsOfFile: "\(directory)/.custos/user.pin", encoding: .utf8)

        // The first start leaves an administrator credential for the operator, readable only by them,
        // and it works with curl against the port the server reports.
        let tokenPath = "\(directory)/.custos/admin.token"
        let tokenMode = try FileManager.default.attributesOfItem(atPath: tokenPath)[.posixPermissions] as? NSNumber
        #expect(tokenMode?.intValue == 0o600)
        let adminToken = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        let port = try #require(first.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let created = try runCommand(
            "curl",
            [
                "-s", "-H", "Authorization: Bearer \(adminToken)", "-H", "Content-Type: application/json", "-d",
                #"{"name":"line-1","algorithm":"ec-p256"}"#,
                "http://127.0.0.1:\(port)/v1/keys",
            ]
        )
        #expect(created.stdout.contains(#""state":"active""#), "\(created.stdout)")
        let anonymous = try runCommand(
            "curl",
            ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/keys"]
        )
        #expect(anonymous.stdout == "401")
        #expect(try await first.stop(SIGTERM) == 0)
        #expect(first.text.contains("received SIGTERM, shutting down"))
        #expect(first.text.contains("PKCS#11 module finalized"))
        #expect(!first.text.contains(userPIN.trimmingCharacters(in: .whitespacesAndNewlines)))

        let second = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await second.waitFor("serving"), "\(second.text)")
        #expect(second.text.contains("reusing token \"custos-dev\""))
        // The first run recorded generating its two service keys, the administrator credential, its start,
        // the API key, the refused anonymous request and its stop.
        #expect(second.text.contains("7 audit entries, chain intact"), "\(second.text)")
        #expect(second.text.contains("signing keys in the store: 1"))
        #expect(!second.text.contains("created administrator credential"))
        #expect(second.text.contains("2 signed checkpoints verified with the HSM audit key"))
        #expect(!second.text.contains("generated PIN"))
        #expect(try String(contentsOfFile: "\(directory)/.custos/user.pin", encoding: .utf8) == userPIN)
        #expect(try await second.stop(SIGINT) == 0)
        #expect(second.text.contains("received SIGINT"))
        let verify = try custos(
            [
                "audit", "verify", "--data-dir", "\(directory)/.custos", "--public-key",
                "\(directory)/.custos/audit-public-key.pem",
            ])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("9 entries, 4 signed checkpoints verified"), "\(verify.stdout)")
        let generated = try custos(["audit", "show", "--data-dir", "\(directory)/.custos", "--action", "key.generate"])
        #expect(generated.stdout.split(separator: "\n").count == 3, "\(generated.stdout)")
        #expect(generated.stdout.contains("custos-audit"))
    }

    @Test func serveWithAWrongPINFailsWithOneClearMessage() async throws {
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "cli")
        let directory = try makeTemporaryDirectory("serve-bad-pin")
        let result = try custos(
            ["serve", "--token", token.label, "--pin-env", "CUSTOS_TEST_PIN"],
            environment: ["CUSTOS_TEST_PIN": token.userPIN + "0"],
            directory: directory
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("rejected the PIN (CKR_PIN_INCORRECT)"), "\(result.stderr)")
        #expect(!result.stderr.contains(token.userPIN + "0"))
        // The rejected login is in the audit log.
        let audit = try custos(["audit", "show", "--data-dir", "\(directory)/.custos", "--action", "hsm.login"])
        #expect(audit.stdout.contains("failure: CKR_PIN_INCORRECT"), "\(audit.stdout) \(audit.stderr)")
    }

    @Test func credentialsAreManagedFromTheCommandLine() async throws {
        let directory = try makeTemporaryDirectory("credentials")
        let data = "\(directory)/.custos"
        let serve = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })

        // Created while the server runs (a second process on the same store), used over HTTP, revoked.
        let created = try custos(["credential", "create", "--data-dir", data, "--role", "auditor"])
        #expect(created.status == 0, "\(created.stderr)")
        let token = try #require(created.stdout.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("cst_"))
        let id = try #require(created.stdout.split(separator: "credential ").last?.prefix { $0.isHexDigit })
        func status() throws -> String {
            try runCommand(
                "curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                    "http://127.0.0.1:\(port)/v1/audit",
                ]
            ).stdout
        }
        #expect(try status() == "200")
        let listed = try custos(["credential", "list", "--data-dir", data])
        #expect(listed.stdout.contains("\(id)\tauditor\tactive"), "\(listed.stdout)")
        #expect(!listed.stdout.contains(token))
        #expect(try custos(["credential", "revoke", "--data-dir", data, String(id)]).status == 0)
        #expect(try status() == "401")

        let badRole = try custos(["credential", "create", "--data-dir", data, "--role", "root"])
        #expect(badRole.status != 0 && badRole.stderr.contains("--role must be"), "\(badRole.stderr)")
        let unknown = try custos(["credential", "revoke", "--data-dir", data, "0000"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no credential has id 0000"), "\(unknown.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }
}
