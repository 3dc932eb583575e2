import CustosTestSupport
import Foundation
import Testing

/// strongSwan's `pki --scepca` and `pki --scep` (Debian `strongswan-pki`) against Custos: the CA and RA
/// certificates, a first enrollment with a one-time password (RSA key, AES, SHA-256), a renewal signed
/// with the issued certificate (RenewalReq), polling (CertPoll) for a request an officer approves, and a
/// wrong password refused with a signed FAILURE.
@Suite(.serialized, .stopsServers) struct StrongSwanSCEPTests {
    @Test func pkiEnrollsRenewsAndPollsForApproval() async throws {
        let scep = try await SCEPServer.start()
        try await scep.profile("routers")
        let url = "\(scep.url)/routers"

        let cacerts = try await scep.pki([
            "--scepca", "--url", url, "--caout", "ca.der", "--raout", "ra.der", "--force",
        ])
        #expect(cacerts.status == 0, "\(cacerts.stdout) \(cacerts.stderr)")
        #expect(cacerts.stderr.contains("RA cert is trusted"), "\(cacerts.stderr)")
        #expect(try scep.openssl(["x509", "-inform", "DER", "-in", "ca.der", "-out", "ca.pem"]).status == 0)
        let ra = try scep.openssl(["x509", "-inform", "DER", "-in", "ra.der", "-noout", "-text"])
        #expect(ra.stdout.contains("Key Encipherment") && ra.stdout.contains("rsaEncryption"), "\(ra.stdout)")

        try scep.shell(
            "pki --gen --type rsa --size 2048 > router.key && pki --gen --type rsa --size 2048 > router2.key"
        )
        let password = try await scep.oneTimePassword("routers", label: "router-1")
        let enrolled = try await scep.pki([
            "--scep", "--url", url, "--in", "router.key", "--dn", "CN=router-1, O=Custos Tests", "--password", password,
            "--cacert-enc", "ra.der", "--cacert-sig", "ra.der", "--cacert", "ca.der", "--outform", "pem",
        ])
        let outcomes = (try? await scep.audit("scep.PKCSReq").map(\.event.outcome)) ?? []
        #expect(enrolled.status == 0, "\(enrolled.stdout) \(enrolled.stderr) \(outcomes)")
        try enrolled.stdout.write(toFile: "\(scep.directory)/router.pem", atomically: true, encoding: .utf8)
        #expect(try scep.verify("router"), "\(enrolled.stdout)")
        let findings = try scep.lint("router")
        #expect(findings.isEmpty, "\(findings)")
        #expect(try await scep.audit("certificate.enroll").count == 1)

        // Triple DES and SHA-512, as older clients send them (the answer comes back in triple DES).
        try scep.shell("pki --gen --type rsa --size 3072 > legacy.key")
        let legacyPassword = try await scep.oneTimePassword("routers", label: "legacy")
        let legacy = try await scep.pki([
            "--scep", "--url", url, "--in", "legacy.key", "--dn", "CN=legacy-1, O=Custos Tests", "--password",
            legacyPassword, "--cacert-enc", "ra.der", "--cacert-sig", "ra.der", "--cacert", "ca.der", "--cipher",
            "des3",
            "--digest", "sha512", "--outform", "pem",
        ])
        #expect(legacy.status == 0, "\(legacy.stderr)")
        try legacy.stdout.write(toFile: "\(scep.directory)/legacy.pem", atomically: true, encoding: .utf8)
        #expect(try scep.verify("legacy"))

        // The same one-time password again: a signed CertRep with FAILURE, which pki reports.
        let reused = try await scep.pki([
            "--scep", "--url", url, "--in", "router2.key", "--dn", "CN=router-2, O=Custos Tests", "--password",
            password,
            "--cacert-enc", "ra.der", "--cacert-sig", "ra.der", "--cacert", "ca.der",
        ])
        #expect(reused.status != 0)
        #expect(reused.stderr.contains("badRequest"), "\(reused.stderr)")
        #expect(try await scep.audit("enrollment.refused").contains { $0.event.outcome.contains("has been used") })

        // RenewalReq: signed with the issued certificate and its key, for a new key.
        #expect(try scep.openssl(["x509", "-in", "router.pem", "-outform", "DER", "-out", "router.der"]).status == 0)
        let renewed = try await scep.pki([
            "--scep", "--url", url, "--in", "router2.key", "--dn", "CN=router-1, O=Custos Tests",
            "--cert", "router.der", "--key", "router.key",
            "--cacert-enc", "ra.der", "--cacert-sig", "ra.der", "--cacert", "ca.der", "--outform", "pem",
        ])
        #expect(renewed.status == 0, "\(renewed.stdout) \(renewed.stderr)")
        try renewed.stdout.write(toFile: "\(scep.directory)/router2.pem", atomically: true, encoding: .utf8)
        #expect(try scep.verify("router2"))
        #expect(try await scep.audit("certificate.reenroll").count == 1)

        // Manual approval: PENDING, then pki polls with CertPoll every second until an officer approves.
        try await scep.profile("held", ["approval": "manual"])
        try scep.shell("pki --gen --type rsa --size 2048 > router3.key")
        let heldPassword = try await scep.oneTimePassword("held", label: "router-3")
        let polling = Task {
            try await scep.pki([
                "--scep", "--url", "\(scep.url)/held", "--in", "router3.key", "--dn", "CN=router-3, O=Custos Tests",
                "--password", heldPassword, "--cacert-enc", "ra.der", "--cacert-sig", "ra.der", "--cacert", "ca.der",
                "--interval", "1", "--maxpolltime", "60", "--outform", "pem",
            ])
        }
        var pending: [[String: Any]] = []
        for _ in 0..<100 where pending.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
            let page = try await scep.server.request(
                "GET",
                "/v1/enrollment/requests?state=pending",
                token: scep.server.adminToken
            )
            pending = page.json["requests"] as? [[String: Any]] ?? []
        }
        let id = try #require(pending.first?["id"] as? String)
        #expect(pending.first?["protocol"] as? String == "scep")
        let approved = try await scep.server.request(
            "POST",
            "/v1/enrollment/requests/\(id)/approve",
            token: scep.server.adminToken,
            json: [String: Any]()
        )
        #expect(approved.status == 200, "\(approved.text)")
        let polled = try await polling.value
        #expect(polled.status == 0, "\(polled.stderr)")
        #expect(polled.stderr.contains("SCEP request pending"), "\(polled.stderr)")
        try polled.stdout.write(toFile: "\(scep.directory)/router3.pem", atomically: true, encoding: .utf8)
        #expect(try scep.verify("router3"))
        #expect(try await scep.audit("scep.CertPoll").contains { $0.event.outcome.contains("success") })
    }
}
