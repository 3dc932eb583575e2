import CustosTestSupport
import Foundation
import Testing

@Suite struct ServeCommandTests {
    @Test func firstStartCreatesTheDevTokenAndPINsAndSecondStartReusesThem() async throws {
        let directory = try makeTemporaryDirectory("serve")
        let first = try ServeProcess([], directory: directory)
        #expect(try await first.waitFor("serving; press Ctrl-C to stop"), "\(first.text)")
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
        #expect(try await first.stop(SIGTERM) == 0)
        #expect(first.text.contains("received SIGTERM, shutting down"))
        #expect(first.text.contains("PKCS#11 module finalized"))
        #expect(!first.text.contains(userPIN.trimmingCharacters(in: .whitespacesAndNewlines)))

        let second = try ServeProcess([], directory: directory)
        #expect(try await second.waitFor("serving"), "\(second.text)")
        #expect(second.text.contains("reusing token \"custos-dev\""))
        // The first run recorded generating its two service keys, its start and its stop.
        #expect(second.text.contains("4 audit entries, chain intact"))
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
        #expect(verify.stdout.contains("6 entries, 4 signed checkpoints verified"), "\(verify.stdout)")
        let generated = try custos(["audit", "show", "--data-dir", "\(directory)/.custos", "--action", "key.generate"])
        #expect(generated.stdout.split(separator: "\n").count == 2, "\(generated.stdout)")
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
}
