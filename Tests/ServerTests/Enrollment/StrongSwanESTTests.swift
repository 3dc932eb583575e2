import CustosTestSupport
import Foundation
import Testing

/// strongSwan's `pki --estca` and `pki --est` (Debian `strongswan-pki` with the curl plugin) against
/// Custos: fetching the CA, a first enrollment with a one-time password, a renewal authenticated by the
/// issued certificate, and polling for a request an officer approves meanwhile. pki takes a server
/// URL and appends `/.well-known/est/<operation>` itself, so it reaches the profile named `default`.
@Suite(.serialized, .stopsServers) struct StrongSwanESTTests {
    func pki(_ arguments: [String], in directory: String) async throws -> CommandResult {
        try await runClient("pki", arguments, currentDirectory: directory)
    }

    @Test func pkiEnrollsRenewsAndPollsForApproval() async throws {
        let est = try await ESTServer.start()
        try await est.profile("default")
        let url = est.base
        let directory = est.directory

        let cacerts = try await pki(
            ["--estca", "--url", url, "--cacert", est.tlsChain, "--caout", "ca.der", "--force"],
            in: directory
        )
        #expect(cacerts.status == 0, "\(cacerts.stdout) \(cacerts.stderr)")
        try est.openssl(["x509", "-inform", "DER", "-in", "ca.der", "-out", "ca.pem"])

        // A key and request made by pki, enrolled with a one-time password.
        let generated = try runCommand(
            "sh",
            [
                "-c",
                "pki --gen --type ecdsa --size 256 > router.key && pki --req --in router.key --type ecdsa --dn 'CN=router-17, O=Custos Tests' > router.req",
            ],
            currentDirectory: directory
        )
        #expect(generated.status == 0, "\(generated.stderr)")
        let password = try await est.oneTimePassword("default", label: "router-17")
        let enrolled = try await pki(
            [
                "--est", "--url", url, "--cacert", est.tlsChain, "--cacert", "ca.der", "--in", "router.req",
                "--userpass", "router-17:\(password)", "--outform", "pem",
            ],
            in: directory
        )
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        try enrolled.stdout.write(toFile: "\(directory)/router.pem", atomically: true, encoding: .utf8)
        #expect(try est.verify("router"))
        let findings = try est.lint("router")
        #expect(findings.isEmpty, "\(findings)")

        // Renewal: pki authenticates with the old certificate and key over TLS.
        let renewal = try runCommand(
            "sh",
            [
                "-c",
                "pki --gen --type ecdsa --size 256 > router2.key && pki --req --in router2.key --type ecdsa --dn 'CN=router-17, O=Custos Tests' > router2.req",
            ],
            currentDirectory: directory
        )
        #expect(renewal.status == 0, "\(renewal.stderr)")
        try est.openssl(["x509", "-in", "router.pem", "-outform", "DER", "-out", "router.der"])
        let renewed = try await pki(
            [
                "--est", "--url", url, "--cacert", est.tlsChain, "--cacert", "ca.der", "--in", "router2.req",
                "--cert", "router.der", "--key", "router.key", "--outform", "pem",
            ],
            in: directory
        )
        #expect(renewed.status == 0, "\(renewed.stderr)")
        try renewed.stdout.write(toFile: "\(directory)/router2.pem", atomically: true, encoding: .utf8)
        #expect(try est.verify("router2"))
        #expect(try await est.audit("certificate.reenroll").count == 1)

        // With manual approval pki gets 202 and polls (every second here) until an officer approves.
        var profile = try await est.api("GET", "/v1/enrollment/profiles/default").json
        profile["approval"] = "manual"
        profile.removeValue(forKey: "endpoints")
        let changed = try await est.api("PUT", "/v1/enrollment/profiles/default", profile)
        #expect(changed.status == 200, "\(changed.text)")
        let held = try await runClient(
            "sh",
            [
                "-c",
                "pki --gen --type ecdsa --size 256 > router3.key && pki --req --in router3.key --type ecdsa --dn 'CN=router-18, O=Custos Tests' > router3.req",
            ],
            currentDirectory: directory
        )
        #expect(held.status == 0, "\(held.stderr)")
        let polling = Task {
            try await pki(
                [
                    "--est", "--url", url, "--cacert", est.tlsChain, "--cacert", "ca.der", "--in", "router3.req",
                    "--userpass", "router-18:\(try await est.oneTimePassword("default"))", "--interval", "1",
                    "--maxpolltime", "60", "--outform", "pem",
                ],
                in: directory
            )
        }
        var pending: [[String: Any]] = []
        for _ in 0..<100 where pending.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            pending =
                try await est.api("GET", "/v1/enrollment/requests?state=pending").json["requests"] as? [[String: Any]]
                ?? []
        }
        let request = try #require(pending.first?["id"] as? String, "pki's request never showed up as pending")
        // pki writes the RDNs in the order given, so the most specific (last) is O.
        #expect(pending.first?["subject"] as? String == "O=Custos Tests,CN=router-18")
        try await Task.sleep(for: .seconds(1.5))
        let approved = try await est.api("POST", "/v1/enrollment/requests/\(request)/approve")
        #expect(approved.status == 200 && approved.json["state"] as? String == "issued", "\(approved.text)")
        let result = try await polling.value
        #expect(result.status == 0, "\(result.stderr)")
        try result.stdout.write(toFile: "\(directory)/router3.pem", atomically: true, encoding: .utf8)
        #expect(try est.verify("router3"))
        let certificate = try String(contentsOfFile: "\(directory)/router3.pem", encoding: .utf8)
        #expect(certificate.contains("-----BEGIN CERTIFICATE-----"))
        #expect(result.stderr.contains("EST request pending") || result.stderr.contains("202"), "\(result.stderr)")
    }
}
