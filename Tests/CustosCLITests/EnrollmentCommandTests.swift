import CustosTestSupport
import Foundation
import Testing

/// `custos enrollment …` against a running `custos serve`: profiles made, shown, changed and deleted,
/// passwords printed once, and clear refusals with a non-zero exit.
@Suite struct EnrollmentCommandTests {
    @Test func operatorsManageEnrollmentProfilesFromTheCommandLine() async throws {
        let directory = try makeTemporaryDirectory("enrollment-cli")
        let serve = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let url = ["--url", "http://127.0.0.1:\(port)"]
        func run(_ arguments: [String]) throws -> CommandResult { try custos(arguments + url, directory: directory) }

        #expect(
            try run(["ca", "create", "--id", "devices", "--subject", "CN=Devices", "--algorithm", "ec-p256"]).status
                == 0
        )
        let anchor = try runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "maker.key",
                "-out", "maker.pem", "-subj", "/CN=Maker IDevID CA", "-days", "30",
            ],
            currentDirectory: directory
        )
        #expect(anchor.status == 0, "\(anchor.stderr)")
        let created = try run([
            "enrollment", "create", "line-3", "--ca", "devices", "--subject-template", "CN={SERIALNUMBER},O=Acme",
            "--shared-password", "--anchor", "maker.pem", "--manual-approval", "--renewal-window-days", "30",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("/.well-known/est/line-3/ /scep/line-3"), "\(created.stdout)")
        let shown = try run(["enrollment", "show", "line-3"])
        let profile = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        #expect(
            profile["approval"] as? String == "manual"
                && profile["subjectTemplate"] as? String == "CN={SERIALNUMBER},O=Acme"
        )
        let authentication = profile["authentication"] as? [String: Any]
        #expect((authentication?["clientCertificateAnchors"] as? [String])?.count == 1)
        #expect((profile["renewal"] as? [String: Any])?["windowDays"] as? Int == 30)
        #expect(try run(["enrollment", "list"]).stdout.contains("line-3\tdevices\tdevice\test,scep\tmanual"))

        // Passwords: printed once, only the hash stays.
        let shared = try run(["enrollment", "password", "line-3"])
        let secret = try #require(shared.stdout.split(separator: "\n").last.map(String.init))
        #expect(shared.status == 0 && secret.count == 27, "\(shared.stdout)")
        let otp = try run(["enrollment", "otp", "line-3", "--label", "PLC 4711", "--valid-hours", "2"])
        let oneTime = try #require(otp.stdout.split(separator: "\n").last.map(String.init))
        #expect(otp.status == 0 && oneTime.count == 27 && oneTime != secret, "\(otp.stdout)")
        let store = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/.custos/store/data.mdb"))
        #expect(store.range(of: Data(secret.utf8)) == nil && store.range(of: Data(oneTime.utf8)) == nil)

        // Changed as a whole; then deleted.
        let updated = try run(["enrollment", "update", "line-3", "--ca", "devices", "--protocols", "est"])
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect(try run(["enrollment", "list"]).stdout.contains("line-3\tdevices\tdevice\test\tautomatic"))
        #expect(try run(["enrollment", "requests"]).status == 0)

        // Refusals: a message and a non-zero exit.
        let unknownCA = try run(["enrollment", "create", "x", "--ca", "nowhere"])
        #expect(unknownCA.status != 0 && unknownCA.stderr.contains("no CA is named"), "\(unknownCA.stderr)")
        let badName = try run(["enrollment", "create", "Bad_Name", "--ca", "devices"])
        #expect(badName.status != 0 && badName.stderr.contains("a profile name has"), "\(badName.stderr)")
        let noShared = try run(["enrollment", "password", "line-3"])
        #expect(
            noShared.status != 0 && noShared.stderr.contains("does not accept a shared password"),
            "\(noShared.stderr)"
        )
        let approve = try run(["enrollment", "approve", "nosuch"])
        #expect(approve.status != 0 && approve.stderr.contains("unknown_request"), "\(approve.stderr)")
        // A device key made in the HSM, written only wrapped to the line's RSA key.
        let line = try runCommand(
            "sh",
            [
                "-c",
                "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out line.key && openssl pkey -in line.key -pubout -out line.pub",
            ],
            currentDirectory: directory
        )
        #expect(line.status == 0, "\(line.stderr)")
        let device = try run([
            "enrollment", "device-key", "--ca", "devices", "--subject", "CN=plc-9", "--san", "dns:plc-9.example",
            "--rsa-public-key", "line.pub", "--oaep-hash", "sha1", "--certificate-out", "plc-9.pem", "--key-out",
            "plc-9.wrapped",
        ])
        #expect(
            device.status == 0 && device.stdout.contains("key wrapped to the RSA key in plc-9.wrapped"),
            "\(device.stderr)"
        )
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/plc-9.wrapped")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(((attributes[.size] as? Int) ?? 0) > 256 + 64, "RSA-OAEP part, then the wrapped PKCS#8 key")
        let verified = try runCommand(
            "openssl",
            ["x509", "-in", "plc-9.pem", "-noout", "-subject"],
            currentDirectory: directory
        )
        #expect(verified.stdout.contains("CN = plc-9"), "\(verified.stdout)")
        try "a password for the file\n".write(toFile: "\(directory)/p12.pw", atomically: true, encoding: .utf8)
        let pkcs12 = try run([
            "enrollment", "device-key", "--ca", "devices", "--subject", "CN=plc-10", "--pkcs12-password-file", "p12.pw",
            "--certificate-out", "plc-10.pem", "--key-out", "plc-10.p12",
        ])
        #expect(pkcs12.status != 0 && pkcs12.stderr.contains("not_implemented"), "\(pkcs12.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/plc-10.p12"))
        let both = try run([
            "enrollment", "device-key", "--ca", "devices", "--subject", "CN=x", "--certificate-out", "x.pem",
            "--key-out",
            "x.key",
        ])
        #expect(both.status != 0 && both.stderr.contains("exactly one"), "\(both.stderr)")

        #expect(try run(["enrollment", "delete", "line-3"]).status == 0)
        let gone = try run(["enrollment", "show", "line-3"])
        #expect(gone.status != 0 && gone.stderr.contains("unknown_profile"), "\(gone.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }

    @Test func officersSeeAndDeactivateACMEAccounts() async throws {
        let directory = try makeTemporaryDirectory("acme-cli")
        let serve = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let url = ["--url", "http://127.0.0.1:\(port)"]
        func run(_ arguments: [String]) throws -> CommandResult { try custos(arguments + url, directory: directory) }

        #expect(try run(["ca", "create", "--id", "web", "--subject", "CN=Web", "--algorithm", "ec-p256"]).status == 0)
        let missing = try run([
            "enrollment", "create", "web", "--ca", "web", "--category", "tls-server", "--protocols", "acme",
        ])
        #expect(missing.status != 0 && missing.stderr.contains("acme.allowedDomains"), "\(missing.stderr)")
        let created = try run([
            "enrollment", "create", "web", "--ca", "web", "--category", "tls-server", "--protocols", "acme",
            "--acme-domain", "acme.test", "--acme-challenges", "http-01,dns-01",
        ])
        #expect(created.status == 0 && created.stdout.contains("/acme/web/directory"), "\(created.stderr)")
        let shown = try run(["enrollment", "show", "web"])
        #expect(shown.stdout.contains("\"allowedDomains\"") && shown.stdout.contains("acme.test"), "\(shown.stdout)")

        // An external account key, and an account certbot binds to it (over plain HTTP on loopback).
        let eab = try run(["enrollment", "acme-eab", "web", "--label", "platform"])
        let eabLines = eab.stdout.split(separator: "\n").map(String.init)
        let kid = try #require(eabLines.first { $0.hasPrefix("kid ") }.map { String($0.dropFirst(4)) }, "\(eab.stderr)")
        let hmac = try #require(eabLines.first { $0.hasPrefix("hmac ") }.map { String($0.dropFirst(5)) })
        #expect(hmac.count == 43, "\(eab.stdout)")
        let registered = try runCommand(
            "certbot",
            [
                "register", "--server", "http://127.0.0.1:\(port)/acme/web/directory", "--agree-tos", "-m",
                "ops@acme.test", "--non-interactive", "--config-dir", "\(directory)/cb", "--work-dir",
                "\(directory)/cbw", "--logs-dir", "\(directory)/cbl", "--eab-kid=" + kid, "--eab-hmac-key=" + hmac,
            ]
        )
        #expect(registered.status == 0, "\(registered.stderr)")
        let accounts = try run(["enrollment", "acme-accounts", "web"])
        let line = try #require(accounts.stdout.split(separator: "\n").first.map(String.init), "\(accounts.stderr)")
        let fields = line.split(separator: "\t").map(String.init)
        #expect(fields.count == 5 && fields[1] == "valid" && fields[2] == "mailto:ops@acme.test", "\(line)")
        #expect(try run(["enrollment", "acme-orders", "web", fields[0]]).stdout.isEmpty)
        let deactivated = try run(["enrollment", "acme-deactivate", "web", fields[0]])
        #expect(deactivated.status == 0 && deactivated.stdout.contains("deactivated"), "\(deactivated.stderr)")
        #expect(try run(["enrollment", "acme-accounts", "web"]).stdout.contains("\tdeactivated\t"))
        let unknown = try run(["enrollment", "acme-deactivate", "web", "ffff"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no ACME account"), "\(unknown.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }

    @Test func aCMPProfileFromTheCommandLineEnrollsOpenSSLWithAOneTimeSecret() async throws {
        let directory = try makeTemporaryDirectory("cmp-cli")
        let serve = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let url = ["--url", "http://127.0.0.1:\(port)"]
        func run(_ arguments: [String]) throws -> CommandResult { try custos(arguments + url, directory: directory) }

        #expect(
            try run(["ca", "create", "--id", "line", "--subject", "CN=Line CA", "--algorithm", "ec-p256"]).status == 0
        )
        let bad = try run([
            "enrollment", "create", "line-3", "--ca", "line", "--protocols", "cmp", "--cmp-check-after", "0",
        ])
        #expect(bad.status != 0 && bad.stderr.contains("cmp.checkAfterSeconds"), "\(bad.stderr)")
        let created = try run([
            "enrollment", "create", "line-3", "--ca", "line", "--protocols", "cmp", "--cmp-check-after", "5",
            "--cmp-no-implicit-confirm",
        ])
        #expect(created.status == 0 && created.stdout.contains("/.well-known/cmp/p/line-3"), "\(created.stderr)")
        let shown = try run(["enrollment", "show", "line-3"])
        #expect(
            shown.stdout.contains("\"checkAfterSeconds\" : 5") && shown.stdout.contains("\"implicitConfirm\" : false")
        )
        let otp = try run(["enrollment", "otp", "line-3", "--label", "controller 17"])
        // "custos: one-time password <id> of profile …", then the secret on a line of its own.
        let lines = otp.stdout.split(separator: "\n").map(String.init)
        let secret = lines.last ?? ""
        let words = (lines.first ?? "").split(separator: " ").map(String.init)
        let id = try #require(words.firstIndex(of: "password").map { words[$0 + 1] }, "\(otp.stdout)")
        #expect(secret.count == 27 && id.count == 16, "\(otp.stdout) \(otp.stderr)")

        _ = try runCommand(
            "openssl",
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "device.key"],
            currentDirectory: directory
        )
        let ir = try runCommand(
            "openssl",
            [
                "cmp", "-server", "http://127.0.0.1:\(port)/.well-known/cmp/p/line-3", "-recipient", "/CN=Line CA",
                "-cmd", "ir", "-ref", id, "-secret", "pass:" + secret, "-newkey", "device.key", "-subject",
                "/CN=controller-17", "-certout", "device.pem",
            ],
            currentDirectory: directory
        )
        #expect(ir.status == 0, "\(ir.stdout)\(ir.stderr)")
        let issued = try runCommand(
            "openssl",
            ["x509", "-in", "device.pem", "-noout", "-subject", "-issuer"],
            currentDirectory: directory
        )
        #expect(
            issued.stdout.contains("CN = controller-17") && issued.stdout.contains("CN = Line CA"),
            "\(issued.stdout)"
        )
        #expect(try await serve.stop(SIGTERM) == 0)
    }
}
