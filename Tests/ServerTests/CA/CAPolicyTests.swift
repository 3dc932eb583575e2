import CA
import Codecs
import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Server
import SwiftASN1
import Testing
import X509

/// Every issuance-policy rule, accepted and refused with a message naming it.
extension CARouteTests {
    @Test func everyPolicyRuleAcceptsAndRejects() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-policy")
        try await createCA(
            server,
            id: "policy-root",
            algorithm: "ec-p256",
            subject: "CN=Policy Root",
            validityDays: 400
        )
        let policy: [String: Any] = [
            "validityDays": 30, "maxValidityDays": 60, "certificatePolicies": ["1.3.6.1.4.1.55555.1"],
            "allowedKeyAlgorithms": ["ec-p256", "ed25519"],
            "requiredSubjectAttributes": ["CN", "O"],
            // Patterns see values as they are, without RFC 4514 escapes.
            "allowedSubjectAttributes": ["CN": "dev-[0-9]+", "O": "Acme", "OU": "Line [0-9]+(, Hall [A-Z])?"],
            "allowedSANTypes": ["dns": "[a-z0-9-]+\\.acme\\.test"],
            "requireSAN": true, "commonNameInSAN": false, "allowPublicKeyReuse": false,
        ]
        let set = try await server.request(
            "PUT",
            "/v1/cas/policy-root/policies/device",
            token: server.adminToken,
            json: policy
        )
        try #require(set.status == 200, "\(set.text)")
        let ec = Self.leafKeys[0].newkey
        let good = (key: ec, subject: "/O=Acme/CN=dev-1", san: "DNS:a.acme.test", days: 60)
        // One case per rule: a request that keeps it and one that breaks it.
        let cases: [(rule: String, key: [String], subject: String, san: String?, days: Int?)] = [
            ("allowedKeyAlgorithms", Self.leafKeys[3].newkey, good.subject, good.san, nil),
            ("maxValidityDays", ec, good.subject, good.san, 61),
            ("requiredSubjectAttributes", ec, "/CN=dev-1", good.san, nil),
            ("allowedSubjectAttributes", ec, "/O=Acme/CN=printer", good.san, nil),
            ("allowedSubjectAttributes", ec, "/O=Acme/L=Berlin/CN=dev-1", good.san, nil),
            ("allowedSANTypes", ec, good.subject, "DNS:evil.example.com", nil),
            ("allowedSANTypes", ec, good.subject, "IP:10.0.0.1", nil),
            ("requireSAN", ec, good.subject, nil, nil),
            ("validityWithinIssuer", ec, good.subject, good.san, 500),
        ]
        let before = try await certificateCount(server)
        for (index, testCase) in cases.enumerated() {
            let csr = try makeCSR(
                directory,
                name: "bad-\(index)",
                newkey: testCase.key,
                subject: testCase.subject,
                extra: testCase.san.map { ["-addext", "subjectAltName=\($0)"] } ?? []
            )
            var body: [String: Any] = ["csr": csr, "category": "device"]
            if let days = testCase.days { body["validityDays"] = days }
            if testCase.rule == "validityWithinIssuer" {
                // The policy allows it; the issuer's own end does not.
                var longer = policy
                longer["maxValidityDays"] = 1000
                let widened = try await server.request(
                    "PUT",
                    "/v1/cas/policy-root/policies/device",
                    token: server.adminToken,
                    json: longer
                )
                #expect(widened.status == 200, "\(widened.text)")
            }
            let result = try await server.request(
                "POST",
                "/v1/cas/policy-root/certificates",
                token: server.adminToken,
                json: body
            )
            #expect(result.status == 422 && result.errorCode == "policy_violation", "\(testCase.rule): \(result.text)")
            #expect(result.errorMessage.hasPrefix("rule \(testCase.rule):"), "\(testCase.rule): \(result.errorMessage)")
        }
        #expect(try await certificateCount(server) == before, "a refused request stored a certificate")
        // Requests that keep every rule: EC and Ed25519, with and without OU, the longest validity.
        let restored = try await server.request(
            "PUT",
            "/v1/cas/policy-root/policies/device",
            token: server.adminToken,
            json: policy
        )
        #expect(restored.status == 200)
        for (index, variant) in [
            (ec, "/O=Acme/CN=dev-1", 60), (Self.leafKeys[6].newkey, "/O=Acme/OU=Line 3/CN=dev-22", 1),
            (Self.leafKeys[6].newkey, "/O=Acme/OU=Line 3, Hall B/CN=dev-23", 1),
        ].enumerated() {
            let csr = try makeCSR(
                directory,
                name: "good-\(index)",
                newkey: variant.0,
                subject: variant.1,
                extra: ["-addext", "subjectAltName=\(good.san)"]
            )
            let result = try await server.request(
                "POST",
                "/v1/cas/policy-root/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "device", "validityDays": variant.2]
            )
            #expect(result.status == 201, "\(variant.1): \(result.text)")
            if variant.1.contains("Hall B") {
                // Escaped once in the stored subject text.
                #expect(result.json["subject"] as? String == "CN=dev-23,OU=Line 3\\, Hall B,O=Acme", "\(result.text)")
            }
            let path = try writeFile(
                directory,
                "good-\(index).pem",
                Data((result.json["certificate"] as? String ?? "").utf8)
            )
            let text = try runCommand("openssl", ["x509", "-in", path, "-noout", "-text", "-dates"]).stdout
            #expect(text.contains("Policy: 1.3.6.1.4.1.55555.1") && text.contains("DNS:a.acme.test"), "\(text)")
        }
        // The default policy: no stored one for tls-client, so its built-in rules apply.
        let shown = try await server.request("GET", "/v1/cas/policy-root/policies/tls-client", token: server.adminToken)
        #expect(
            shown.json["maxValidityDays"] as? Int == 825 && shown.json["requireSAN"] as? Bool == false,
            "\(shown.text)"
        )
        // commonNameInSAN from the TLS server default.
        let mismatched = try makeCSR(
            directory,
            name: "cn",
            newkey: ec,
            subject: "/CN=www.example.com",
            extra: ["-addext", "subjectAltName=DNS:api.example.com"]
        )
        let refused = try await server.request(
            "POST",
            "/v1/cas/policy-root/certificates",
            token: server.adminToken,
            json: ["csr": mismatched, "category": "tls-server"]
        )
        #expect(refused.status == 422 && refused.errorMessage.hasPrefix("rule commonNameInSAN:"), "\(refused.text)")
        // A policy that cannot work is refused when it is set.
        var broken = policy
        broken["allowedSANTypes"] = ["dns": "(unclosed"]
        let invalid = try await server.request(
            "PUT",
            "/v1/cas/policy-root/policies/device",
            token: server.adminToken,
            json: broken
        )
        #expect(invalid.status == 400 && invalid.errorMessage.contains("allowedSANTypes.dns"), "\(invalid.text)")
    }
}
