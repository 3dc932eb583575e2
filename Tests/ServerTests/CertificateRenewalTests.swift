import CustosTestSupport
import Foundation
import Testing

/// Renewal of end-entity certificates over HTTP: the same names under a new serial, with the same key
/// or a new one as the policy allows, checked with openssl.
@Suite(.serialized, .stopsServers) struct CertificateRenewalTests {
    @Test func certificatesAreRenewedWithTheSameOrANewKey() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-renewal")
        let ca = CARouteTests()
        try await ca.createCA(server, id: "renew-root", algorithm: "ec-p384", subject: "CN=Renewal Root")
        let ecKey = CARouteTests.leafKeys[0].newkey
        let csr = try makeCSR(
            directory,
            name: "web",
            newkey: ecKey,
            subject: "/CN=web.acme.test",
            extra: ["-addext", "subjectAltName=DNS:web.acme.test,DNS:www.acme.test"]
        )
        let issued = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "tls-server", "metadata": ["line": "7", "owner": "web-team"]]
        )
        try #require(issued.status == 201, "\(issued.text)")
        let oldSerial = try #require(issued.json["serial"] as? String)
        let rootPEM = try #require((issued.json["chain"] as? [String])?.first)
        let rootPath = try writeFile(directory, "root.pem", Data(rootPEM.utf8))

        func text(_ pem: String) throws -> String {
            try runCommand("openssl", ["x509", "-noout", "-text"], input: Data(pem.utf8)).stdout
        }
        func publicKey(_ pem: String) throws -> String {
            try runCommand("openssl", ["x509", "-noout", "-pubkey"], input: Data(pem.utf8)).stdout
        }
        func verifies(_ pem: String, _ name: String) throws -> Bool {
            let path = try writeFile(directory, name, Data(pem.utf8))
            return try runCommand("openssl", ["verify", "-x509_strict", "-CAfile", rootPath, path]).stdout
                .contains(": OK")
        }
        let oldPEM = try #require(issued.json["certificate"] as? String)

        // Same key (the default policy allows it): new serial, same names, metadata carried over.
        let sameKey = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: [:]
        )
        try #require(sameKey.status == 201, "\(sameKey.text)")
        let samePEM = try #require(sameKey.json["certificate"] as? String)
        #expect(sameKey.json["serial"] as? String != oldSerial)
        #expect(try publicKey(samePEM) == publicKey(oldPEM))
        #expect(try verifies(samePEM, "same.pem"))
        let sameText = try text(samePEM)
        #expect(
            sameText.contains("Subject: CN = web.acme.test")
                && sameText.contains("DNS:web.acme.test, DNS:www.acme.test"),
            "\(sameText)"
        )
        let metadata = sameKey.json["metadata"] as? [String: String] ?? [:]
        #expect(
            metadata == ["line": "7", "owner": "web-team", "renewed-from": oldSerial],
            "\(sameKey.text)"
        )
        #expect(sameKey.json["category"] as? String == "tls-server")
        // The old certificate stays valid: renewal does not revoke.
        let old = try await server.request(
            "GET",
            "/v1/cas/renew-root/certificates/\(oldSerial)",
            token: server.adminToken
        )
        #expect(old.json["status"] as? String == "valid", "\(old.text)")

        // A policy that forbids key reuse: renewal without a CSR is refused; a CSR for another subject too.
        let policyResult = try await server.request(
            "GET",
            "/v1/cas/renew-root/policies/tls-server",
            token: server.adminToken
        )
        var policy = policyResult.json
        policy["allowPublicKeyReuse"] = false
        let set = try await server.request(
            "PUT",
            "/v1/cas/renew-root/policies/tls-server",
            token: server.adminToken,
            json: policy
        )
        try #require(set.status == 200, "\(set.text)")
        let before = try await ca.certificateCount(server)
        let reuse = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: [:]
        )
        #expect(
            reuse.status == 422 && reuse.errorMessage.contains("rule allowPublicKeyReuse"),
            "\(reuse.text)"
        )
        let oldKeyCSR = try runCommand(
            "openssl",
            ["req", "-new", "-key", "\(directory)/web.key", "-subj", "/CN=web.acme.test"]
        )
        let reuseByCSR = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: ["csr": oldKeyCSR.stdout]
        )
        #expect(
            reuseByCSR.status == 422 && reuseByCSR.errorMessage.contains("rule allowPublicKeyReuse"),
            "\(reuseByCSR.text)"
        )
        let otherSubject = try makeCSR(directory, name: "other", newkey: ecKey, subject: "/CN=evil.acme.test")
        let renamed = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: ["csr": otherSubject]
        )
        #expect(
            renamed.status == 422 && renamed.errorMessage.contains("rule renewalSameSubject"),
            "\(renamed.text)"
        )
        let garbage = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: ["csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"]
        )
        #expect(garbage.status == 400 && garbage.errorCode == "invalid_csr", "\(garbage.text)")
        let unknown = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/0badc0de/renew",
            token: server.adminToken,
            json: [:]
        )
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_certificate", "\(unknown.text)")
        let auditor = try await server.credential(.auditor)
        let forbidden = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: auditor,
            json: [:]
        )
        #expect(forbidden.status == 403, "\(forbidden.text)")
        #expect(try await ca.certificateCount(server) == before, "a refused renewal stores nothing")

        // A new key with the same subject: certified, names from the old certificate.
        let newKeyCSR = try makeCSR(directory, name: "web-2", newkey: ecKey, subject: "/CN=web.acme.test")
        let newKey = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: ["csr": newKeyCSR, "validityDays": 30]
        )
        try #require(newKey.status == 201, "\(newKey.text)")
        let newPEM = try #require(newKey.json["certificate"] as? String)
        let newKeyFile = try runCommand("openssl", ["pkey", "-in", "\(directory)/web-2.key", "-pubout"]).stdout
        #expect(try publicKey(newPEM) == newKeyFile)
        #expect(try text(newPEM).contains("DNS:web.acme.test, DNS:www.acme.test"))
        #expect(try verifies(newPEM, "new.pem"))

        // A revoked certificate is not renewed.
        let revoke = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/revoke",
            token: server.adminToken,
            json: ["reason": "superseded"]
        )
        try #require(revoke.status == 200, "\(revoke.text)")
        let afterRevoke = try await server.request(
            "POST",
            "/v1/cas/renew-root/certificates/\(oldSerial)/renew",
            token: server.adminToken,
            json: ["csr": newKeyCSR]
        )
        #expect(afterRevoke.status == 409 && afterRevoke.errorCode == "already_revoked", "\(afterRevoke.text)")

        // The audit log names each renewal.
        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        #expect(audit.text.components(separatedBy: "certificate.renew").count - 1 >= 2, "\(audit.text)")
    }
}
