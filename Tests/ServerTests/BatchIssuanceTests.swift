import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing
import X509

extension CARouteTests {
    /// `POST /v1/cas/{ca}/certificates/batch`: good requests are issued and stored, each bad one gets
    /// the error it would get alone, and a batch refused as a whole stores nothing.
    @Test func aBatchIssuesTheGoodRequestsAndAnswersEachBadOneAlone() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-batch")
        let root = try await createCA(server, id: "tray-root", algorithm: "ec-p256", subject: "CN=Tray Root")
        let rootPath = try writeFile(directory, "root.pem", Data(try #require(root["certificate"] as? String).utf8))

        var good: [String] = []
        for index in 0..<5 {
            let key = Self.leafKeys[index % 4]
            good.append(
                try makeCSR(directory, name: "device-\(index)", newkey: key.newkey, subject: "/CN=device \(index)")
            )
        }
        var tampered = try PEMDocument(pemString: good[0]).derBytes
        tampered[tampered.count - 3] ^= 0x01
        let badSignature = PEMDocument(type: "CERTIFICATE REQUEST", derBytes: tampered).pemString
        let asksForCA = try makeCSR(
            directory,
            name: "sneaky",
            newkey: Self.leafKeys[0].newkey,
            subject: "/CN=sneaky",
            extra: ["-addext", "basicConstraints=critical,CA:TRUE"]
        )
        // In request order: good, bad signature, good, CA:true, good, unknown category, good, not PEM, good.
        let requests: [[String: Any]] = [
            ["csr": good[0], "category": "device", "metadata": ["tray": "T-17", "slot": "0"]],
            ["csr": badSignature, "category": "device"],
            ["csr": good[1], "category": "device", "metadata": ["tray": "T-17", "slot": "1"]],
            ["csr": asksForCA, "category": "device"],
            ["csr": good[2], "category": "tls-client", "validityDays": 30],
            ["csr": good[3], "category": "router"],
            ["csr": good[3], "category": "device", "metadata": ["tray": "T-17", "slot": "3"]],
            ["csr": "not a PEM at all", "category": "device"],
            ["csr": good[4], "category": "user"],
        ]
        let expectedErrors: [Int: String] = [
            1: "invalid_csr", 3: "policy_violation", 5: "invalid_input", 7: "invalid_csr",
        ]
        let before = try await certificateCount(server)
        let response = try await server.request(
            "POST",
            "/v1/cas/tray-root/certificates/batch",
            token: server.adminToken,
            json: ["requests": requests]
        )
        try #require(response.status == 200, "\(response.text)")
        #expect(response.json["succeeded"] as? Int == 5)
        #expect(response.json["failed"] as? Int == 4)
        #expect((response.json["chain"] as? [String])?.first == root["certificate"] as? String)
        let results = try #require(response.json["results"] as? [[String: Any]])
        try #require(results.count == requests.count)

        var serials: Set<String> = []
        for (index, result) in results.enumerated() {
            if let code = expectedErrors[index] {
                let error = result["error"] as? [String: Any]
                #expect(error?["code"] as? String == code, "request \(index): \(result)")
                let message = error?["message"] as? String ?? ""
                #expect(!message.isEmpty)
                #expect(result["certificate"] == nil)
                continue
            }
            let pem = try #require(result["certificate"] as? String, "request \(index): \(result)")
            let leafPath = try writeFile(directory, "leaf-\(index).pem", Data(pem.utf8))
            let verified = try runCommand("openssl", ["verify", "-CAfile", rootPath, leafPath])
            #expect(verified.status == 0 && verified.stdout.contains(": OK"), "request \(index): \(verified.stderr)")
            // The certificate is for the request's own key and subject.
            let csrPath = try writeFile(
                directory,
                "request-\(index).csr",
                Data((requests[index]["csr"] as! String).utf8)
            )
            let csrKey = try runCommand("openssl", ["req", "-pubkey", "-noout", "-in", csrPath]).stdout
            let leafKey = try runCommand("openssl", ["x509", "-pubkey", "-noout", "-in", leafPath]).stdout
            #expect(!csrKey.isEmpty && csrKey == leafKey, "request \(index)")
            #expect(result["category"] as? String == requests[index]["category"] as? String)
            let serial = try #require(result["serial"] as? String)
            serials.insert(serial)
            // Stored, with its metadata, as a single issuance would be.
            let stored = try await server.request(
                "GET",
                "/v1/cas/tray-root/certificates/\(serial)",
                token: server.adminToken
            )
            #expect(stored.status == 200 && stored.json["certificate"] as? String == pem)
            #expect(
                stored.json["metadata"] as? [String: String] == requests[index]["metadata"] as? [String: String] ?? [:]
            )
        }
        #expect(serials.count == 5, "every certificate has its own serial")
        #expect(try await certificateCount(server) == before + 5)
        let search = try await server.request(
            "GET",
            "/v1/certificates?metadata.tray=T-17",
            token: server.adminToken
        )
        #expect((search.json["certificates"] as? [[String: Any]])?.count == 3, "\(search.text)")
        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        let issues = (audit.json["entries"] as? [[String: Any]] ?? []).filter {
            $0["action"] as? String == "certificate.issue"
        }
        #expect(issues.count == 5, "one audit entry per certificate issued")

        // Refused as a whole: nothing signed, nothing stored.
        let refusals: [(String, String, Any, Int, String)] = [
            ("empty", "tray-root", ["requests": [[String: Any]]()], 400, "invalid_input"),
            (
                "too many", "tray-root",
                ["requests": Array(repeating: ["csr": good[0], "category": "device"], count: 257)], 400,
                "invalid_input"
            ),
            ("unknown CA", "no-such-ca", ["requests": [["csr": good[0], "category": "device"]]], 404, "unknown_ca"),
            ("no requests field", "tray-root", ["csr": good[0]], 400, "invalid_json"),
        ]
        for (name, ca, body, status, code) in refusals {
            let refused = try await server.request(
                "POST",
                "/v1/cas/\(ca)/certificates/batch",
                token: server.adminToken,
                json: body
            )
            #expect(refused.status == status && refused.errorCode == code, "\(name): \(refused.text)")
        }
        let allBad = try await server.request(
            "POST",
            "/v1/cas/tray-root/certificates/batch",
            token: server.adminToken,
            json: [
                "requests": [["csr": badSignature, "category": "device"], ["csr": asksForCA, "category": "device"]]
            ]
        )
        #expect(allBad.status == 200 && allBad.json["succeeded"] as? Int == 0 && allBad.json["failed"] as? Int == 2)
        let auditor = try await server.credential(.auditor)
        let byAuditor = try await server.request(
            "POST",
            "/v1/cas/tray-root/certificates/batch",
            token: auditor,
            json: ["requests": [["csr": good[0], "category": "device"]]]
        )
        #expect(byAuditor.status == 403, "\(byAuditor.text)")
        #expect(try await certificateCount(server) == before + 5)
    }
}
