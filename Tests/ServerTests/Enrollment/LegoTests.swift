import CustosTestSupport
import Foundation
import Testing

/// lego (Debian) against a running Custos: http-01 and tls-alpn-01 with lego's own servers, dns-01
/// through its `exec` provider writing TXT records to pebble-challtestsrv, renewal and revocation.
/// (lego 4.9 sends IP addresses as DNS identifiers, so addresses are tested with `ACMEProtocolTests`.)
@Suite(.serialized) struct LegoTests {
    @Test func issuesThroughEachChallengeRenewsAndRevokes() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("web")
        let account = ["--server", acme.directoryURL("web"), "--accept-tos", "--email", "ops@acme.test"]

        let http = try await acme.lego(
            "lego",
            account + ["--domains", "lego.acme.test", "--http", "--http.port", "127.0.0.1:\(acme.http01Port)", "run"]
        )
        try #require(http.status == 0, "\(http.stdout)\n\(http.stderr)")
        try acme.keep("\(acme.directory)/lego/certificates/lego.acme.test.crt", as: "http")
        #expect(try await acme.verify("http"))
        #expect(try acme.lint("http") == [])

        let tls = try await acme.lego(
            "lego",
            account + ["--domains", "alpn.acme.test", "--tls", "--tls.port", "127.0.0.1:\(acme.tlsALPN01Port)", "run"]
        )
        try #require(tls.status == 0, "\(tls.stdout)\n\(tls.stderr)")
        try acme.keep("\(acme.directory)/lego/certificates/alpn.acme.test.crt", as: "alpn")
        #expect(try await acme.verify("alpn"))

        let hook = "\(acme.directory)/lego-dns.sh"
        try """
        #!/bin/sh
        [ "$1" = present ] || exit 0
        curl -sf -X POST --data-binary "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" \
          http://127.0.0.1:\(acme.challenges.managementPort)/set-txt

        """.write(toFile: hook, atomically: true, encoding: .utf8)
        _ = try runCommand("chmod", ["+x", hook])
        let dns = try await acme.lego(
            "lego",
            account + [
                "--domains", "dns.acme.test", "--domains", "*.dns.acme.test", "--dns", "exec", "--dns.disable-cp",
                "--dns.resolvers", "127.0.0.1:\(acme.challenges.dnsPort)", "run",
            ],
            environment: [
                // One TXT name for the name and its wildcard: lego waits a minute between them unless told.
                "EXEC_PATH": hook, "EXEC_POLLING_INTERVAL": "1", "EXEC_PROPAGATION_TIMEOUT": "10",
                "EXEC_SEQUENCE_INTERVAL": "1",
            ]
        )
        try #require(dns.status == 0, "\(dns.stdout)\n\(dns.stderr)")
        try acme.keep("\(acme.directory)/lego/certificates/dns.acme.test.crt", as: "dns")
        #expect(try await acme.verify("dns"))
        let names = try runCommand(
            "openssl",
            ["x509", "-noout", "-ext", "subjectAltName", "-in", "dns.pem"],
            currentDirectory: acme.directory
        )
        .stdout
        #expect(names.contains("DNS:*.dns.acme.test") && names.contains("DNS:dns.acme.test"), "\(names)")

        let first = try acme.serial("http")
        let renewed = try await acme.lego(
            "lego",
            account + [
                "--domains", "lego.acme.test", "--http", "--http.port", "127.0.0.1:\(acme.http01Port)", "renew",
                "--days", "10000", "--no-random-sleep",
            ]
        )
        try #require(renewed.status == 0, "\(renewed.stdout)\n\(renewed.stderr)")
        try acme.keep("\(acme.directory)/lego/certificates/lego.acme.test.crt", as: "renewed")
        let second = try acme.serial("renewed")
        #expect(second != first)

        let revoked = try await acme.lego("lego", account + ["--domains", "lego.acme.test", "revoke"])
        try #require(revoked.status == 0, "\(revoked.stdout)\n\(revoked.stderr)")
        #expect(try await acme.certificate(second)["status"] as? String == "revoked")
        #expect(try await acme.certificate(first)["status"] as? String == "valid")
    }

    @Test func registersWithAnExternalAccountBindingAndIssues() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("teams", ["externalAccountRequired": true])
        let made = try await acme.est.api("POST", "/v1/enrollment/profiles/teams/acme/external-keys", [String: Any]())
        let kid = try #require(made.json["id"] as? String, "\(made.text)")
        let hmac = try #require(made.json["hmacKey"] as? String)
        let account = ["--server", acme.directoryURL("teams"), "--accept-tos", "--email", "ops@acme.test"]
        let refused = try await acme.lego(
            "lego-plain",
            account + ["--domains", "eab.acme.test", "--http", "--http.port", "127.0.0.1:\(acme.http01Port)", "run"]
        )
        // lego reads the directory's meta and asks for a binding before it sends anything.
        #expect(
            refused.status != 0 && refused.stderr.contains("Server requires External Account Binding"),
            "\(refused.stderr.suffix(300))"
        )
        let issued = try await acme.lego(
            "lego",
            account + [
                "--eab", "--kid=" + kid, "--hmac=" + hmac, "--domains", "eab.acme.test", "--http", "--http.port",
                "127.0.0.1:\(acme.http01Port)", "run",
            ]
        )
        try #require(issued.status == 0, "\(issued.stdout)\n\(issued.stderr)")
        try acme.keep("\(acme.directory)/lego/certificates/eab.acme.test.crt", as: "eab")
        #expect(try await acme.verify("eab"))
    }
}
