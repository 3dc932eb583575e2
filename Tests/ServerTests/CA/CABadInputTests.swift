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

/// Bad input to the CA routes: a clear error, nothing stored.
extension CARouteTests {
    @Test func badInputGetsAClearErrorAndStoresNothing() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ca-bad")
        try await createCA(server, id: "bad-root", algorithm: "ec-p256", subject: "CN=Bad Input Root")
        let good = try makeCSR(directory, name: "good", newkey: Self.leafKeys[0].newkey, subject: "/CN=device 1")
        let document = try PEMDocument(pemString: good)
        var tampered = document.derBytes
        tampered[tampered.count - 3] ^= 0x01
        let badSignature = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: tampered).pemString
        let garbage = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: Array("this is not DER at all".utf8)).pemString
        let truncated = String(good.prefix(good.count / 2))
        let asksForCA = try makeCSR(
            directory,
            name: "ca",
            newkey: Self.leafKeys[0].newkey,
            subject: "/CN=sneaky",
            extra: ["-addext", "basicConstraints=critical,CA:TRUE"]
        )
        let before = try await certificateCount(server)
        let auditBefore = try await server.api.store.auditHead()?.sequence ?? 0
        let cases: [(String, Data, Int, String)] = [
            (
                "bad signature",
                try JSONSerialization.data(withJSONObject: ["csr": badSignature, "category": "device"]), 400,
                "invalid_csr"
            ),
            (
                "garbage DER", try JSONSerialization.data(withJSONObject: ["csr": garbage, "category": "device"]), 400,
                "invalid_csr"
            ),
            (
                "truncated PEM", try JSONSerialization.data(withJSONObject: ["csr": truncated, "category": "device"]),
                400, "invalid_csr"
            ),
            (
                "certificate, not CSR",
                try JSONSerialization.data(withJSONObject: [
                    "csr": PEMDocument(type: "CERTIFICATE", derBytes: document.derBytes).pemString,
                    "category": "device",
                ]), 400, "invalid_csr"
            ),
            (
                "CA:true", try JSONSerialization.data(withJSONObject: ["csr": asksForCA, "category": "device"]), 422,
                "policy_violation"
            ),
            (
                "unknown category", try JSONSerialization.data(withJSONObject: ["csr": good, "category": "router"]),
                400, "invalid_input"
            ),
            (
                "bad metadata key",
                try JSONSerialization.data(withJSONObject: [
                    "csr": good, "category": "device", "metadata": ["a b": "c"],
                ]), 400, "invalid_input"
            ),
            ("invalid JSON", Data("{\"csr\": ".utf8), 400, "invalid_json"),
        ]
        for (name, body, status, code) in cases {
            let result = try await server.request(
                "POST",
                "/v1/cas/bad-root/certificates",
                token: server.adminToken,
                body: body
            )
            #expect(result.status == status && result.errorCode == code, "\(name): \(result.text)")
            #expect(!result.errorMessage.isEmpty, "\(name)")
        }
        let unknown = try await server.request(
            "POST",
            "/v1/cas/nobody/certificates",
            token: server.adminToken,
            json: ["csr": good, "category": "device"]
        )
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_ca", "\(unknown.text)")
        #expect(try await certificateCount(server) == before, "a refused request stored a certificate")
        #expect(
            try await server.api.store.auditHead()?.sequence ?? 0 == auditBefore,
            "refused requests changed nothing"
        )

        // Creating CAs: each malformed field is named.
        let badCAs: [([String: Any], Int, String)] = [
            (["id": "Bad Id", "subject": "CN=x", "algorithm": "ec-p256"], 400, "a CA id"),
            (["id": "x1", "subject": "CN", "algorithm": "ec-p256"], 400, "is not TYPE=value"),
            (["id": "x2", "subject": "C=Germany", "algorithm": "ec-p256"], 400, "two-letter"),
            (["id": "x3", "subject": "XX=1", "algorithm": "ec-p256"], 400, "unknown attribute type"),
            (["id": "x4", "subject": "CN=x", "algorithm": "dsa-1024"], 400, "unknown algorithm"),
            (["id": "x5", "subject": "CN=x", "algorithm": "ec-p256", "parent": "nobody"], 404, "no CA"),
            (["id": "bad-root", "subject": "CN=x", "algorithm": "ec-p256"], 409, "exists already"),
            (["id": "x6", "subject": "CN=x", "algorithm": "ec-p256", "validityDays": 0], 400, "validityDays"),
        ]
        for (body, status, message) in badCAs {
            let result = try await server.request("POST", "/v1/cas", token: server.adminToken, json: body)
            #expect(result.status == status && result.errorMessage.contains(message), "\(body): \(result.text)")
        }
        let list = try await server.request("GET", "/v1/cas", token: server.adminToken)
        #expect((list.json["cas"] as? [[String: Any]])?.map { $0["id"] as? String } == ["bad-root"], "\(list.text)")
        // And the server still serves.
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
    }
}
