import CA
import CustosTestSupport
import Foundation
import Server
import Testing

/// Delegated OCSP signers: answers signed by a short-lived responder certificate the CA issued
/// (id-kp-OCSPSigning, ocsp-nocheck), verified by `openssl ocsp` through the CA (no `-VAfile`), linted
/// by pkilint, and still valid for clients across a rotation.
@Suite(.serialized, .stopsServers) struct OCSPDelegatedSignerTests {
    @Test func delegatedSignerAnswersAndRotationKeepsEarlierAnswersValid() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.ocspDelegatedSigners = true
        configuration.ca = CAConfiguration(publicBaseURL: "http://pki.example.com")
        let server = try await ServerFixture(configuration: configuration)
        let directory = try makeTemporaryDirectory("custos-ocsp-delegated")
        try await CARouteTests().createCA(server, id: "d-root", algorithm: "ec-p256", subject: "CN=Delegating Root")
        var leaves: [String] = []
        var serials: [String] = []
        for name in ["one", "two"] {
            let issued = try await issueLeaf(server, ca: "d-root", name: name, category: "device", in: directory)
            leaves.append(issued.path)
            serials.append(issued.serial)
        }
        let rootPath = try writeFile(
            directory,
            "root.pem",
            try await server.request("GET", "/v1/cas/d-root/certificate", token: server.adminToken).body
        )
        let url = "http://127.0.0.1:\(server.port)/ocsp"
        let none = try await server.request("GET", "/v1/cas/d-root/ocsp-signer", token: server.adminToken)
        #expect(none.status == 404 && none.text.contains("no_ocsp_signer"), "\(none.text)")

        // The first signer, asked for by an officer.
        let first = try await server.request(
            "POST",
            "/v1/cas/d-root/ocsp-signer/rotate",
            token: server.adminToken,
            json: [String: String]()
        )
        try #require(first.status == 200, "\(first.text)")
        #expect(first.json["generation"] as? Int == 1 && first.json["key"] as? String == "custos-ocsp-d-root-g1")
        let signerPath = try writeFile(directory, "signer1.pem", Data((first.json["certificate"] as! String).utf8))
        let text = try runCommand("openssl", ["x509", "-in", signerPath, "-noout", "-text"]).stdout
        #expect(text.contains("OCSP Signing") && text.contains("OCSP No Check") && text.contains("CA:FALSE"), "\(text)")
        #expect(text.contains("Issuer: CN = Delegating Root") && text.contains("Digital Signature"), "\(text)")
        // With id-pkix-ocsp-nocheck nobody checks the signer's revocation: no CRL or OCSP pointers (the
        // leaves have them, and the delta CRL's too), and pkilint's OCSP responder profile agrees.
        #expect(!text.contains("CRL Distribution Points") && !text.contains("Authority Information Access"), "\(text)")
        let leafText = try runCommand("openssl", ["x509", "-in", leaves[0], "-noout", "-text"]).stdout
        #expect(
            leafText.contains("CRL Distribution Points") && leafText.contains("Freshest CRL")
                && leafText.contains("http://pki.example.com/crl/d-root.delta.crl"),
            "\(leafText)"
        )
        let lint = try runCommand(
            "lint_cabf_serverauth_cert",
            ["lint", "-t", "OCSP-RESPONDER", "-s", "WARNING", "-f", "CSV", signerPath]
        )
        #expect(!lint.stdout.contains("CRL") && !lint.stdout.contains("authority_information_access"), "\(lint.stdout)")
        // Short-lived: the configured 14 days (both ends included).
        let dates = try ["notBefore", "notAfter"].map { field in
            try #require(ISO8601DateFormatter().date(from: first.json[field] as? String ?? ""), "\(field)")
        }
        #expect(dates[1].timeIntervalSince(dates[0]) == 14 * 86_400 - 1, "\(first.text)")
        // The signer's key is a service key: the signing API neither lists nor uses it.
        let listed = try await server.request("GET", "/v1/keys", token: server.adminToken)
        #expect(!listed.text.contains("custos-ocsp"), "\(listed.text)")

        /// Asks with openssl, checking through the CA (the response must carry the signer's certificate).
        func ask(_ leaf: String, _ name: String, nonce: Bool = true) async throws -> String {
            let result = try await runClient(
                "openssl",
                [
                    "ocsp", "-issuer", rootPath, "-cert", leaf, "-url", url, "-CAfile", rootPath, "-resp_text",
                    "-respout", "\(directory)/\(name).der",
                ] + (nonce ? [] : ["-no_nonce"])
            )
            return result.stdout + result.stderr
        }
        let live = try await ask(leaves[0], "live-1")
        #expect(live.contains("Response verify OK") && live.contains("\(leaves[0]): good"), "\(live)")
        #expect(live.contains("CN=d-root OCSP signer 1") && !live.contains("WARNING"), "\(live)")
        // Without a nonce: kept, then served from the store, still signed by signer 1.
        let kept = try await ask(leaves[1], "kept-1", nonce: false)
        #expect(kept.contains("Response verify OK") && kept.contains("CN=d-root OCSP signer 1"), "\(kept)")
        try await Task.sleep(for: .milliseconds(300))
        for path in ["\(directory)/live-1.der", "\(directory)/kept-1.der"] {
            let lint = try runCommand("lint_ocsp_response", ["lint", "-s", "WARNING", "-f", "CSV", path])
            let findings = lint.stdout.split(separator: "\n").dropFirst()
            #expect(lint.status == 0 && findings.isEmpty, "\(path): \(lint.stdout) \(lint.stderr)")
        }

        // Rotation: new answers come from signer 2; answers signed by signer 1 stay valid for clients,
        // both the one a client holds and the one the store still serves.
        let second = try await server.request(
            "POST",
            "/v1/cas/d-root/ocsp-signer/rotate",
            token: server.adminToken,
            json: [String: String]()
        )
        try #require(second.status == 200, "\(second.text)")
        #expect(second.json["retiredKeys"] as? [String] == ["custos-ocsp-d-root-g1"], "\(second.text)")
        let after = try await ask(leaves[0], "live-2")
        #expect(after.contains("Response verify OK") && after.contains("CN=d-root OCSP signer 2"), "\(after)")
        let held = try await runClient(
            "openssl",
            [
                "ocsp", "-respin", "\(directory)/live-1.der", "-issuer", rootPath, "-cert", leaves[0], "-CAfile",
                rootPath,
                "-no_nonce",
            ]
        )
        #expect(held.stdout.contains("\(leaves[0]): good"), "\(held.stdout)")
        #expect((held.stdout + held.stderr).contains("Response verify OK"), "\(held.stderr)")
        let stored = try await ask(leaves[1], "kept-2", nonce: false)
        #expect(stored.contains("Response verify OK") && stored.contains("CN=d-root OCSP signer 1"), "\(stored)")

        // A revocation is answered by the current signer.
        let revoked = try await server.request(
            "POST",
            "/v1/cas/d-root/certificates/\(serials[1])/revoke",
            token: server.adminToken,
            json: ["reason": "keyCompromise"]
        )
        try #require(revoked.status == 200, "\(revoked.text)")
        let revokedAnswer = try await ask(leaves[1], "revoked", nonce: false)
        #expect(
            revokedAnswer.contains("\(leaves[1]): revoked") && revokedAnswer.contains("signer 2"),
            "\(revokedAnswer)"
        )
        #expect(revokedAnswer.contains("Response verify OK"), "\(revokedAnswer)")

        // Automatic rotation: nothing is due now; 11 days on (less than twice the 4-day answer validity
        // left) signer 3 comes; 15 days on every signer made today has expired: signer 4 comes and the
        // keys of 1 to 3 are destroyed.
        let authority = server.api.authority
        let now = Int64(Date().timeIntervalSince1970)
        let validity = server.api.ocsp.validitySeconds
        let idle = await authority.rotateDueOCSPSigners(validityDays: 14, responseValidity: validity, now: now)
        #expect(idle.rotated.isEmpty && idle.destroyed.isEmpty && idle.failures.isEmpty, "\(idle)")
        let later = await authority.rotateDueOCSPSigners(
            validityDays: 14,
            responseValidity: validity,
            now: now + 11 * 86_400
        )
        #expect(later.rotated == ["d-root"] && later.destroyed.isEmpty && later.failures.isEmpty, "\(later)")
        #expect(try await authority.ocspSigner("d-root")?.generation == 3)
        let keyStore = server.api.signing.keyStore
        #expect(try await keyStore.find(label: "custos-ocsp-d-root-g1") != nil)
        let expired = await authority.rotateDueOCSPSigners(
            validityDays: 14,
            responseValidity: validity,
            now: now + 15 * 86_400
        )
        #expect(
            expired.rotated == ["d-root"] && expired.failures.isEmpty
                && expired.destroyed.sorted() == (1...3).map { "custos-ocsp-d-root-g\($0)" },
            "\(expired)"
        )
        #expect(try await keyStore.find(label: "custos-ocsp-d-root-g1") == nil)
        #expect(try await keyStore.find(label: "custos-ocsp-d-root-g3") == nil)
        let current = try #require(try await authority.ocspSigner("d-root"))
        #expect(current.generation == 4 && current.retired.isEmpty, "\(current.retired)")
        #expect(try await keyStore.find(label: current.keyName) != nil)
        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        #expect(
            audit.text.contains(#""action":"key.destroy""#) && audit.text.contains("custos-ocsp-d-root-g1"),
            "\(audit.text)"
        )
    }

    @Test func rotationIsRefusedWhenDelegationIsOffAndConfigurationIsChecked() async throws {
        let server = try await ServerFixture()
        try await CARouteTests().createCA(server, id: "plain-root", algorithm: "ec-p256", subject: "CN=Plain Root")
        let refused = try await server.request(
            "POST",
            "/v1/cas/plain-root/ocsp-signer/rotate",
            token: server.adminToken,
            json: [String: String]()
        )
        #expect(refused.status == 409 && refused.text.contains("ocsp_delegation_off"), "\(refused.text)")
        let directory = try makeTemporaryDirectory("custos-ocsp-config")
        let file = try writeFile(
            directory,
            "custos.yaml",
            Data("ocsp: { delegatedSigners: true, validityHours: 96, signerValidityDays: 7 }\n".utf8)
        )
        #expect {
            _ = try ServerConfiguration.load(file: file, environment: [:])
        } throws: { "\($0)".contains("ocsp.signerValidityDays must be at least") }
        let bad = try writeFile(directory, "bad.yaml", Data("ocsp: { delegatedSigners: maybe }\n".utf8))
        #expect {
            _ = try ServerConfiguration.load(file: bad, environment: [:])
        } throws: { "\($0)".contains("ocsp.delegatedSigners must be true or false") }
    }
}
