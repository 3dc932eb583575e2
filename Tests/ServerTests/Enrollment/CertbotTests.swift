import CustosTestSupport
import Foundation
import Testing

/// certbot (Debian) against a running Custos: an account, certificates through http-01 (certbot's own
/// standalone server) and dns-01 (TXT records in pebble-challtestsrv set by a manual hook), renewal and
/// revocation; the certificates verify with openssl and pass pkilint.
@Suite(.serialized) struct CertbotTests {
    @Test func issuesRenewsAndRevokesThroughHTTP01() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("web")
        let common = [
            "--server", acme.directoryURL("web"), "--agree-tos", "-m", "ops@acme.test", "--standalone",
            "--http-01-port", String(acme.http01Port), "--http-01-address", "127.0.0.1", "--key-type", "ecdsa",
        ]
        let issued = try await acme.certbot("cb", ["certonly", "-d", "www.acme.test", "-d", "api.acme.test"] + common)
        try #require(issued.status == 0, "\(issued.stdout)\n\(issued.stderr)")
        let live = "\(acme.directory)/cb/config/live/www.acme.test"
        try acme.keep("\(live)/cert.pem", as: "first")
        #expect(try await acme.verify("first"))
        #expect(try acme.lint("first") == [])
        let text = try runCommand(
            "openssl",
            ["x509", "-noout", "-text", "-in", "first.pem"],
            currentDirectory: acme.directory
        )
        .stdout
        #expect(text.contains("DNS:www.acme.test") && text.contains("DNS:api.acme.test"), "\(text)")
        #expect(text.contains("TLS Web Server Authentication"), "\(text)")
        let first = try acme.serial("first")
        let stored = try await acme.certificate(first)
        #expect((stored["metadata"] as? [String: String])?["enrollment.protocol"] == "acme", "\(stored)")

        let renewed = try await acme.certbot("cb", ["renew", "--force-renewal", "--no-random-sleep-on-renew"] + common)
        try #require(renewed.status == 0, "\(renewed.stdout)\n\(renewed.stderr)")
        try acme.keep("\(live)/cert.pem", as: "second")
        #expect(try acme.serial("second") != first)
        #expect(try await acme.verify("second"))

        let revoked = try await acme.certbot(
            "cb",
            ["revoke", "--cert-path", "\(live)/cert.pem", "--reason", "keycompromise", "--no-delete-after-revoke"]
                + ["--server", acme.directoryURL("web")]
        )
        try #require(revoked.status == 0, "\(revoked.stdout)\n\(revoked.stderr)")
        let record = try await acme.certificate(try acme.serial("second"))
        #expect(record["status"] as? String == "revoked", "\(record)")
        #expect(try await acme.audit("acme.account.create").count == 1)
        #expect(try await acme.audit("acme.order.valid").count == 2)
        #expect(try await acme.audit("acme.authorization.valid").count == 2)
    }

    @Test func issuesAWildcardThroughDNS01() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("web")
        let hook = "\(acme.directory)/auth-hook.sh"
        try """
        #!/bin/sh
        curl -sf -X POST --data-binary "{\\"host\\":\\"_acme-challenge.${CERTBOT_DOMAIN}.\\",\\"value\\":\\"${CERTBOT_VALIDATION}\\"}" \
          http://127.0.0.1:\(acme.challenges.managementPort)/set-txt

        """.write(toFile: hook, atomically: true, encoding: .utf8)
        try runCommand("chmod", ["+x", hook])
        let issued = try await acme.certbot(
            "cb",
            [
                "certonly", "--server", acme.directoryURL("web"), "--agree-tos", "-m", "ops@acme.test", "--manual",
                "--preferred-challenges", "dns", "--manual-auth-hook", hook, "-d", "*.apps.acme.test",
                "--key-type", "rsa",
            ]
        )
        try #require(issued.status == 0, "\(issued.stdout)\n\(issued.stderr)")
        try acme.keep("\(acme.directory)/cb/config/live/apps.acme.test/cert.pem", as: "wildcard")
        #expect(try await acme.verify("wildcard"))
        #expect(try acme.lint("wildcard") == [])
        let text = try runCommand(
            "openssl",
            ["x509", "-noout", "-text", "-in", "wildcard.pem"],
            currentDirectory: acme.directory
        )
        .stdout
        #expect(text.contains("DNS:*.apps.acme.test"), "\(text)")
    }
}
