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

/// The certificate authority over real HTTP: CAs with keys in the HSM, CSRs made by openssl, and every
/// chain checked with `openssl verify`.
@Suite(.serialized, .stopsServers) struct CATests {
    /// openssl `-newkey` arguments for each subject key algorithm Custos certifies.
    static let leafKeys: [(name: String, newkey: [String])] = [
        ("ec-p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        ("ec-p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]),
        ("ec-p521", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"]),
        ("rsa-2048", ["-newkey", "rsa:2048"]),
        ("rsa-3072", ["-newkey", "rsa:3072"]),
        ("rsa-4096", ["-newkey", "rsa:4096"]),
        ("ed25519", ["-newkey", "ed25519"]),
    ]

    @Test func chainsOfDepthThreeVerifyWithOpenSSLForEveryAlgorithm() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ca")
        // Roots, intermediates and issuing CAs over every CA key algorithm.
        let hierarchies: [(root: String, intermediate: String, issuing: String)] = [
            ("ec-p384", "rsa-3072", "ec-p256"),
            ("rsa-4096", "ec-p521", "rsa-2048"),
            ("ed25519", "ec-p256", "ed25519"),
        ]
        for (index, algorithms) in hierarchies.enumerated() {
            let root = try await createCA(
                server,
                id: "root-\(index)",
                algorithm: algorithms.root,
                subject: "CN=Root \(index),O=Custos Test,C=DE",
                pathLength: 1
            )
            #expect(root["kind"] as? String == "root" && root["pathLength"] as? Int == 1, "\(root)")
            try await createCA(
                server,
                id: "sub-\(index)",
                algorithm: algorithms.intermediate,
                subject: "CN=Sub \(index),O=Custos Test",
                parent: "root-\(index)",
                pathLength: 0
            )
            let issuing = try await createCA(
                server,
                id: "issuing-\(index)",
                algorithm: algorithms.issuing,
                subject: "CN=Issuing \(index)",
                parent: "sub-\(index)",
                expect: 422
            )
            #expect((issuing["message"] as? String ?? "").contains("rule pathLength"), "\(issuing)")
            // sub-N has path length 0, so the second issuing CA goes under the root: both give chains of
            // three (root, CA, leaf).
            try await createCA(
                server,
                id: "issuing-\(index)",
                algorithm: algorithms.issuing,
                subject: "CN=Issuing \(index)",
                parent: "root-\(index)",
                pathLength: 0
            )
            let rootPEM = try await server.request("GET", "/v1/cas/root-\(index)/certificate", token: server.adminToken)
            let rootPath = try writeFile(directory, "root-\(index).pem", rootPEM.body)
            let selfCheck = try runCommand("openssl", ["verify", "-CAfile", rootPath, rootPath])
            #expect(selfCheck.stdout.contains(": OK"), "\(algorithms.root) root: \(selfCheck.stderr)")

            for (leafIndex, key) in Self.leafKeys.enumerated() where leafIndex % 3 == index || key.name == "ec-p256" {
                for ca in ["issuing-\(index)", "sub-\(index)"] {
                    let name = "\(ca)-\(key.name)"
                    let csr = try makeCSR(directory, name: name, newkey: key.newkey, subject: "/CN=\(name)")
                    let issued = try await server.request(
                        "POST",
                        "/v1/cas/\(ca)/certificates",
                        token: server.adminToken,
                        json: ["csr": csr, "category": "device", "metadata": ["line": "3"]]
                    )
                    try #require(issued.status == 201, "\(name): \(issued.text)")
                    let leafPath = try writeFile(
                        directory,
                        "\(name).pem",
                        Data((issued.json["certificate"] as! String).utf8)
                    )
                    let chain = issued.json["chain"] as! [String]
                    #expect(chain.count == 2, "issuing CA and root")
                    let untrusted = try writeFile(
                        directory,
                        "\(name)-chain.pem",
                        Data(chain.dropLast().joined(separator: "\n").utf8)
                    )
                    let verify = try runCommand(
                        "openssl",
                        ["verify", "-x509_strict", "-CAfile", rootPath, "-untrusted", untrusted, leafPath]
                    )
                    #expect(verify.stdout.contains("\(leafPath): OK"), "\(name): \(verify.stdout) \(verify.stderr)")
                    let text = try runCommand("openssl", ["x509", "-in", leafPath, "-noout", "-text"]).stdout
                    #expect(text.contains("CA:FALSE") && text.contains("Digital Signature"), "\(name): \(text)")
                    let serial = issued.json["serial"] as! String
                    #expect(serial.count == 32, "16-byte serial: \(serial)")
                    // Read back as stored.
                    let stored = try await server.request(
                        "GET",
                        "/v1/cas/\(ca)/certificates/\(serial)",
                        token: server.adminToken
                    )
                    #expect(stored.json["certificate"] as? String == issued.json["certificate"] as? String)
                    #expect((stored.json["metadata"] as? [String: String]) == ["line": "3"])
                }
            }
        }
        // Chain of depth 3 below a root: root -> sub-0 (path length 0) -> leaf is depth 3 counting the
        // leaf; a four-level hierarchy needs a root with path length 2.
        try await createCA(server, id: "deep-root", algorithm: "ec-p256", subject: "CN=Deep Root", pathLength: 2)
        try await createCA(
            server,
            id: "deep-1",
            algorithm: "ec-p256",
            subject: "CN=Deep 1",
            parent: "deep-root",
            pathLength: 1
        )
        // Created a moment after its parent with the default 10 years: it ends with the parent instead.
        let deep2 = try await createCA(
            server,
            id: "deep-2",
            algorithm: "ec-p256",
            subject: "CN=Deep 2",
            parent: "deep-1"
        )
        let deep1 = try await server.request("GET", "/v1/cas/deep-1", token: server.adminToken)
        #expect(deep2["notAfter"] as? String == deep1.json["notAfter"] as? String, "\(deep2) \(deep1.text)")
        let csr = try makeCSR(directory, name: "deep-leaf", newkey: Self.leafKeys[0].newkey, subject: "/CN=deep leaf")
        let issued = try await server.request(
            "POST",
            "/v1/cas/deep-2/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "tls-client"]
        )
        try #require(issued.status == 201, "\(issued.text)")
        let chain = issued.json["chain"] as! [String]
        #expect(chain.count == 3)
        let rootPath = try writeFile(directory, "deep-root.pem", Data(chain[2].utf8))
        let untrusted = try writeFile(directory, "deep-chain.pem", Data(chain[0..<2].joined(separator: "\n").utf8))
        let leafPath = try writeFile(directory, "deep-leaf.pem", Data((issued.json["certificate"] as! String).utf8))
        let verify = try runCommand(
            "openssl",
            ["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", rootPath, "-untrusted", untrusted, leafPath]
        )
        #expect(verify.stdout.contains(": OK"), "\(verify.stdout) \(verify.stderr)")
        // The deepest CA has path length 0: it cannot have a sub-CA.
        let tooDeep = try await createCA(
            server,
            id: "deep-3",
            algorithm: "ec-p256",
            subject: "CN=Deep 3",
            parent: "deep-2",
            expect: 422
        )
        #expect((tooDeep["message"] as? String ?? "").contains("rule pathLength"), "\(tooDeep)")
        // PKCS#7 certs-only: the chain, and a leaf with its chain.
        let bundle = try await server.request("GET", "/v1/cas/deep-2/chain?format=pkcs7", token: server.adminToken)
        #expect(bundle.headers["content-type"]?.hasPrefix("application/pkcs7-mime") == true)
        let printed = try runCommand(
            "openssl",
            ["pkcs7", "-inform", "DER", "-print_certs", "-noout"],
            input: bundle.body
        )
        for name in ["Deep Root", "Deep 1", "Deep 2"] {
            #expect(printed.stdout.contains("subject=CN = \(name)"), "\(printed.stdout) \(printed.stderr)")
        }
        let leafSerial = try #require(issued.json["serial"] as? String)
        let leafBundle = try await server.request(
            "GET",
            "/v1/cas/deep-2/certificates/\(leafSerial)?format=pkcs7&chain=true",
            token: server.adminToken
        )
        let leafPrinted = try runCommand(
            "openssl",
            ["pkcs7", "-inform", "DER", "-print_certs", "-noout"],
            input: leafBundle.body
        )
        #expect(leafPrinted.stdout.components(separatedBy: "subject=").count - 1 == 4, "\(leafPrinted.stdout)")
        let der = try await server.request(
            "GET",
            "/v1/cas/deep-2/certificates/\(leafSerial)?format=der",
            token: server.adminToken
        )
        let parsedLeaf = try runCommand("openssl", ["x509", "-inform", "DER", "-noout", "-serial"], input: der.body)
        #expect(parsedLeaf.stdout.lowercased().contains(leafSerial), "\(parsedLeaf.stdout)")
        // The public CA-issuers URL serves the DER certificate.
        let crt = try await server.request("GET", "/ca/deep-1.crt", token: nil)
        #expect(crt.status == 200 && crt.headers["content-type"] == "application/pkix-cert")
        let parsed = try runCommand("openssl", ["x509", "-inform", "DER", "-noout", "-subject"], input: crt.body)
        #expect(parsed.stdout.contains("CN = Deep 1"), "\(parsed.stdout)")
    }

    @Test func everyCategoryPassesPKILint() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.ca = CAConfiguration(publicBaseURL: "http://pki.example.com")
        let server = try await ServerFixture(configuration: configuration)
        let directory = try makeTemporaryDirectory("custos-lint")
        try await createCA(
            server,
            id: "lint-root",
            algorithm: "ec-p384",
            subject: "CN=Lint Root,O=Custos Test,C=DE",
            pathLength: 1
        )
        try await createCA(
            server,
            id: "lint-issuing",
            algorithm: "ec-p256",
            subject: "CN=Lint Issuing,O=Custos Test,C=DE",
            parent: "lint-root"
        )
        var documents: [(String, String)] = []
        for ca in ["lint-root", "lint-issuing"] {
            let pem = try await server.request("GET", "/v1/cas/\(ca)/certificate", token: server.adminToken)
            documents.append((ca, try writeFile(directory, "\(ca).pem", pem.body)))
        }
        let requests: [(category: String, key: Int, subject: String, extra: [String])] = [
            ("tls-server", 0, "/", ["-addext", "subjectAltName=DNS:www.example.com,DNS:example.com"]),
            ("tls-server", 3, "/", ["-addext", "subjectAltName=DNS:api.example.com"]),
            ("tls-client", 1, "/CN=client 7/O=Custos Test", []),
            (
                "device", 2, "/CN=device 0042/SERIALNUMBER=0042",
                ["-addext", "subjectAltName=URI:https://devices.example.com/0042"]
            ),
            ("user", 3, "/CN=Ada Lovelace/E=ada@example.com", ["-addext", "subjectAltName=email:ada@example.com"]),
            ("code-signing", 0, "/CN=Build Pipeline/O=Custos Test/C=DE", []),
            ("ocsp-signing", 0, "/CN=OCSP Responder/O=Custos Test", []),
        ]
        for (index, request) in requests.enumerated() {
            let name = "\(request.category)-\(index)"
            let csr = try makeCSR(
                directory,
                name: name,
                newkey: Self.leafKeys[request.key].newkey,
                subject: request.subject,
                extra: request.extra
            )
            let issued = try await server.request(
                "POST",
                "/v1/cas/lint-issuing/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": request.category]
            )
            try #require(issued.status == 201, "\(name): \(issued.text)")
            documents.append(
                (name, try writeFile(directory, "\(name).pem", Data((issued.json["certificate"] as! String).utf8)))
            )
        }
        for (name, path) in documents {
            let lint = try runCommand("lint_pkix_cert", ["lint", "-s", "WARNING", "-f", "CSV", path])
            var findings = lint.stdout.split(separator: "\n").dropFirst().map(String.init)
            if name.hasPrefix("tls-server") {
                // The two linters disagree here: RFC 5280 asks for an SKI in every certificate, the
                // Baseline Requirements (7.1.2.7.6) advise against one in TLS server certificates, and
                // lint_cabf_serverauth_cert warns when it is present. Custos follows the BRs.
                findings.removeAll { $0.contains("pkix.certificate_skid_end_entity_missing") }
            }
            #expect(findings.isEmpty, "\(name): \(lint.stdout) \(lint.stderr)")
            guard name.hasPrefix("tls-server") else { continue }
            let cabf = try runCommand("lint_cabf_serverauth_cert", ["lint", "-d", "-s", "WARNING", path])
            #expect(
                cabf.status == 0 && cabf.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                "\(name): \(cabf.stdout) \(cabf.stderr)"
            )
        }
        // The issued TLS certificate names the CA's CRL and certificate URLs.
        let text = try runCommand("openssl", ["x509", "-in", documents[2].1, "-noout", "-text"]).stdout
        #expect(text.contains("URI:http://pki.example.com/crl/lint-issuing.crl"), "\(text)")
        #expect(text.contains("CA Issuers - URI:http://pki.example.com/ca/lint-issuing.crt"), "\(text)")
        #expect(text.contains("2.23.140.1.2.1"), "\(text)")
    }

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
        let before = try certificateCount(server)
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
        #expect(try certificateCount(server) == before, "a refused request stored a certificate")
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
        let before = try certificateCount(server)
        let auditBefore = try server.api.store.auditHead()?.sequence ?? 0
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
        #expect(try certificateCount(server) == before, "a refused request stored a certificate")
        #expect(try server.api.store.auditHead()?.sequence ?? 0 == auditBefore, "refused requests changed nothing")

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

    @Test func rolesDecideWhoMayDoWhat() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ca-roles")
        try await createCA(server, id: "roles-root", algorithm: "ec-p256", subject: "CN=Roles Root")
        let csr = try makeCSR(directory, name: "r", newkey: Self.leafKeys[0].newkey, subject: "/CN=r")
        let issued = try await server.request(
            "POST",
            "/v1/cas/roles-root/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "device"]
        )
        let serial = try #require(issued.json["serial"] as? String)
        var tokens: [String: String?] = ["none": nil]
        for role in [CredentialRecord.Role.admin, .officer, .auditor, .signer] {
            tokens[role.rawValue] = try await server.credential(role)
        }
        let routes: [(method: String, path: String, body: [String: Any]?, allowed: Set<String>)] = [
            (
                "POST", "/v1/cas",
                ["id": "r-new-\(UUID().uuidString.prefix(4).lowercased())", "subject": "CN=n", "algorithm": "ec-p256"],
                ["admin", "officer"]
            ),
            ("GET", "/v1/cas", nil, ["admin", "officer", "auditor"]),
            ("GET", "/v1/cas/roles-root", nil, ["admin", "officer", "auditor"]),
            ("GET", "/v1/cas/roles-root/chain", nil, ["admin", "officer", "auditor"]),
            ("POST", "/v1/cas/roles-root/certificates", ["csr": csr, "category": "device"], ["admin", "officer"]),
            ("GET", "/v1/cas/roles-root/certificates/\(serial)", nil, ["admin", "officer", "auditor"]),
            ("PUT", "/v1/cas/roles-root/policies/user", IssuancePolicyJSON.user, ["admin", "officer"]),
            ("GET", "/v1/cas/roles-root/policies/user", nil, ["admin", "officer", "auditor"]),
        ]
        for route in routes {
            for (role, token) in tokens.sorted(by: { $0.key < $1.key }) {
                var body = route.body
                if route.path == "/v1/cas" && route.method == "POST" { body?["id"] = "r-\(role)" }
                let result = try await server.request(
                    route.method,
                    route.path,
                    token: token,
                    body: try body.map { try JSONSerialization.data(withJSONObject: $0) }
                )
                let expected = token == nil ? 401 : (route.allowed.contains(role) ? nil : 403)
                if let expected {
                    #expect(result.status == expected, "\(role) \(route.method) \(route.path): \(result.text)")
                } else {
                    #expect(
                        (200..<300).contains(result.status),
                        "\(role) \(route.method) \(route.path): \(result.text)"
                    )
                }
            }
        }
    }

    @Test func externalParentRenewalAndRetirement() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ca-life")
        // An existing PKI outside Custos: a root made by openssl.
        let extRoot = try runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
                "\(directory)/ext-root.key", "-subj", "/CN=Existing Root/O=Elsewhere", "-days", "3650", "-out",
                "\(directory)/ext-root.pem", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ]
        )
        try #require(extRoot.status == 0, "\(extRoot.stderr)")
        let pending = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: [
                "id": "ext-sub", "subject": "CN=Custos Line CA,O=Acme", "algorithm": "ec-p256", "external": true,
                "pathLength": 0,
            ]
        )
        #expect(pending.status == 201 && pending.json["state"] as? String == "pending", "\(pending.text)")
        #expect(pending.json["kind"] as? String == "external-subordinate")
        let csr = try #require(pending.json["csr"] as? String)
        let csrPath = try writeFile(directory, "ext-sub.csr", Data(csr.utf8))
        let checked = try runCommand("openssl", ["req", "-in", csrPath, "-noout", "-verify", "-text"])
        #expect(
            (checked.stdout + checked.stderr).contains("verify OK") && checked.stdout.contains("CA:TRUE"),
            "\(checked.stdout) \(checked.stderr)"
        )
        // Pending: it cannot issue yet.
        let leafCSR = try makeCSR(directory, name: "ext-leaf", newkey: Self.leafKeys[0].newkey, subject: "/CN=ext leaf")
        let early = try await server.request(
            "POST",
            "/v1/cas/ext-sub/certificates",
            token: server.adminToken,
            json: ["csr": leafCSR, "category": "device"]
        )
        #expect(early.status == 409 && early.errorCode == "ca_not_usable", "\(early.text)")
        // The external root signs the CSR.
        try
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            .write(toFile: "\(directory)/sub.ext", atomically: true, encoding: .utf8)
        let signed = try runCommand(
            "openssl",
            [
                "x509", "-req", "-in", csrPath, "-CA", "\(directory)/ext-root.pem", "-CAkey",
                "\(directory)/ext-root.key",
                "-CAcreateserial", "-days", "1000", "-extfile", "\(directory)/sub.ext", "-out",
                "\(directory)/ext-sub.pem",
            ]
        )
        try #require(signed.status == 0, "\(signed.stderr)")
        let subPEM = try String(contentsOfFile: "\(directory)/ext-sub.pem", encoding: .utf8)
        let rootPEM = try String(contentsOfFile: "\(directory)/ext-root.pem", encoding: .utf8)
        // Refused: a certificate without the parent, and one for another key.
        let noChain = try await server.request(
            "PUT",
            "/v1/cas/ext-sub/certificate",
            token: server.adminToken,
            json: ["certificate": subPEM, "issuerChain": ""]
        )
        #expect(noChain.status == 400, "\(noChain.text)")
        let wrongKey = try await server.request(
            "PUT",
            "/v1/cas/ext-sub/certificate",
            token: server.adminToken,
            json: ["certificate": rootPEM, "issuerChain": rootPEM]
        )
        #expect(wrongKey.status == 400 && wrongKey.errorMessage.contains("does not certify"), "\(wrongKey.text)")
        let imported = try await server.request(
            "PUT",
            "/v1/cas/ext-sub/certificate",
            token: server.adminToken,
            json: ["certificate": subPEM, "issuerChain": rootPEM]
        )
        #expect(imported.status == 200 && imported.json["state"] as? String == "active", "\(imported.text)")
        // Now it issues, and the leaf chains to the external root.
        let leaf = try await server.request(
            "POST",
            "/v1/cas/ext-sub/certificates",
            token: server.adminToken,
            json: ["csr": leafCSR, "category": "device"]
        )
        try #require(leaf.status == 201, "\(leaf.text)")
        let chain = leaf.json["chain"] as? [String] ?? []
        #expect(chain.count == 2, "sub-CA and the external root")
        let leafPath = try writeFile(directory, "ext-leaf.pem", Data((leaf.json["certificate"] as! String).utf8))
        let verify = try runCommand(
            "openssl",
            [
                "verify", "-x509_strict", "-CAfile", "\(directory)/ext-root.pem", "-untrusted",
                "\(directory)/ext-sub.pem", leafPath,
            ]
        )
        #expect(verify.stdout.contains(": OK"), "\(verify.stdout) \(verify.stderr)")
        // Its CRL is signed by the HSM key and verifies with the imported certificate.
        let crl = try await server.request("GET", "/crl/ext-sub.crl", token: nil)
        let crlPath = try writeFile(directory, "ext-sub.crl", crl.body)
        let crlCheck = try runCommand(
            "openssl",
            ["crl", "-inform", "DER", "-in", crlPath, "-CAfile", "\(directory)/ext-sub.pem", "-noout", "-verify"]
        )
        #expect((crlCheck.stdout + crlCheck.stderr).contains("verify OK"), "\(crlCheck.stderr)")
        // A CA made here cannot take an imported certificate.
        try await createCA(server, id: "life-root", algorithm: "ec-p256", subject: "CN=Life Root", pathLength: 1)
        let notExternal = try await server.request(
            "PUT",
            "/v1/cas/life-root/certificate",
            token: server.adminToken,
            json: ["certificate": subPEM, "issuerChain": rootPEM]
        )
        #expect(notExternal.status == 409, "\(notExternal.text)")

        // Renewal: same key, then a new key; the subject stays, the serial changes.
        let before = try await server.request("GET", "/v1/cas/life-root", token: server.adminToken)
        let sameKey = try await server.request("POST", "/v1/cas/life-root/renew", token: server.adminToken, json: [:])
        #expect(
            sameKey.status == 200 && sameKey.json["serial"] as? String != before.json["serial"] as? String,
            "\(sameKey.text)"
        )
        #expect(
            sameKey.json["previousCertificates"] as? Int == 1 && sameKey.json["subject"] as? String == "CN=Life Root"
        )
        func publicKey(_ pem: String) throws -> String {
            try runCommand("openssl", ["x509", "-noout", "-pubkey"], input: Data(pem.utf8)).stdout
        }
        #expect(
            try publicKey(sameKey.json["certificate"] as! String) == publicKey(before.json["certificate"] as! String)
        )
        let newKey = try await server.request(
            "POST",
            "/v1/cas/life-root/renew",
            token: server.adminToken,
            json: ["rekey": true]
        )
        #expect(newKey.status == 200 && newKey.json["previousCertificates"] as? Int == 2, "\(newKey.text)")
        #expect(
            try publicKey(newKey.json["certificate"] as! String) != publicKey(before.json["certificate"] as! String)
        )
        let renewedRoot = try writeFile(directory, "life-root.pem", Data((newKey.json["certificate"] as! String).utf8))
        let afterCSR = try makeCSR(
            directory,
            name: "after",
            newkey: Self.leafKeys[0].newkey,
            subject: "/CN=after renewal"
        )
        let after = try await server.request(
            "POST",
            "/v1/cas/life-root/certificates",
            token: server.adminToken,
            json: ["csr": afterCSR, "category": "device"]
        )
        try #require(after.status == 201, "\(after.text)")
        let afterPath = try writeFile(directory, "after.pem", Data((after.json["certificate"] as! String).utf8))
        let afterVerify = try runCommand("openssl", ["verify", "-CAfile", renewedRoot, afterPath])
        #expect(afterVerify.stdout.contains(": OK"), "\(afterVerify.stdout) \(afterVerify.stderr)")
        // An external sub-CA is renewed by its parent, not here.
        let externalRenew = try await server.request(
            "POST",
            "/v1/cas/ext-sub/renew",
            token: server.adminToken,
            json: [:]
        )
        #expect(externalRenew.status == 409, "\(externalRenew.text)")

        // Retirement: no more issuance, the CRL is still served.
        let retired = try await server.request("POST", "/v1/cas/life-root/retire", token: server.adminToken)
        #expect(retired.status == 200 && retired.json["state"] as? String == "retired", "\(retired.text)")
        let refused = try await server.request(
            "POST",
            "/v1/cas/life-root/certificates",
            token: server.adminToken,
            json: ["csr": afterCSR, "category": "device"]
        )
        #expect(refused.status == 409 && refused.errorMessage.contains("retired"), "\(refused.text)")
        let retiredCRL = try await server.request("GET", "/crl/life-root.crl", token: nil)
        #expect(retiredCRL.status == 200)
    }

    @Test func aTenantCredentialReachesOnlyItsTenantsCAs() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ca-tenant")
        let created = try await server.request(
            "POST",
            "/v1/credentials",
            token: server.adminToken,
            json: ["role": "officer", "tenant": "factory-a"]
        )
        let officer = try #require(created.json["token"] as? String, "\(created.text)")
        #expect(created.json["tenant"] as? String == "factory-a")
        let signerWithTenant = try await server.request(
            "POST",
            "/v1/credentials",
            token: server.adminToken,
            json: ["role": "signer", "keys": ["a-*"], "tenant": "factory-a"]
        )
        #expect(signerWithTenant.status == 400, "\(signerWithTenant.text)")
        // The admin makes a CA of another tenant.
        let other = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "b-root", "subject": "CN=B Root", "algorithm": "ec-p256", "tenant": "factory-b"]
        )
        #expect(other.status == 201)
        // The tenant officer's CAs land in its tenant; another tenant is refused.
        let own = try await server.request(
            "POST",
            "/v1/cas",
            token: officer,
            json: ["id": "a-root", "subject": "CN=A Root", "algorithm": "ec-p256"]
        )
        #expect(own.status == 201 && own.json["tenant"] as? String == "factory-a", "\(own.text)")
        let foreign = try await server.request(
            "POST",
            "/v1/cas",
            token: officer,
            json: ["id": "a-2", "subject": "CN=A 2", "algorithm": "ec-p256", "tenant": "factory-b"]
        )
        #expect(foreign.status == 403, "\(foreign.text)")
        let underForeign = try await server.request(
            "POST",
            "/v1/cas",
            token: officer,
            json: ["id": "a-3", "subject": "CN=A 3", "algorithm": "ec-p256", "parent": "b-root"]
        )
        #expect(underForeign.status == 403, "\(underForeign.text)")
        let list = try await server.request("GET", "/v1/cas", token: officer)
        #expect(
            (list.json["cas"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["a-root"],
            "\(list.text)"
        )
        let csr = try makeCSR(directory, name: "t", newkey: Self.leafKeys[0].newkey, subject: "/CN=t")
        for (method, path, body) in [
            ("GET", "/v1/cas/b-root", nil), ("GET", "/v1/cas/b-root/chain", nil),
            ("POST", "/v1/cas/b-root/certificates", ["csr": csr, "category": "device"] as [String: Any]?),
            ("PUT", "/v1/cas/*/policies/device", IssuancePolicyJSON.user), ("GET", "/v1/certificates", nil),
            ("GET", "/v1/certificates?ca=b-root", nil), ("GET", "/v1/reports/expiring?days=30", nil),
        ] {
            let result = try await server.request(
                method,
                path,
                token: officer,
                body: try body.map { try JSONSerialization.data(withJSONObject: $0) }
            )
            #expect(result.status == 403, "\(method) \(path): \(result.text)")
        }
        let issued = try await server.request(
            "POST",
            "/v1/cas/a-root/certificates",
            token: officer,
            json: ["csr": csr, "category": "device"]
        )
        #expect(issued.status == 201, "\(issued.text)")
        let search = try await server.request("GET", "/v1/certificates?ca=a-root", token: officer)
        #expect((search.json["certificates"] as? [Any])?.count == 2, "the root's own and the device: \(search.text)")
        let summary = try await server.request("GET", "/v1/reports/summary", token: officer)
        let cas = Set((summary.json["counts"] as? [[String: Any]] ?? []).compactMap { $0["ca"] as? String })
        #expect(cas == ["a-root"], "\(summary.text)")
    }

    @Test func trustAnchorsAndExistingCertificatesAreImported() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-import")
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments)
            try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        // A PKI that existed before Custos, and one unrelated root.
        for name in ["legacy", "foreign"] {
            try openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/\(name).key", "-subj", "/CN=\(name) root", "-days", "3650", "-out",
                "\(directory)/\(name).pem",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        for (index, root) in ["legacy", "legacy", "legacy", "foreign", "legacy"].enumerated() {
            _ = try makeCSR(
                directory,
                name: "old-\(index)",
                newkey: Self.leafKeys[0].newkey,
                subject: "/CN=old device \(index)"
            )
            try openssl([
                "x509", "-req", "-in", "\(directory)/old-\(index).csr", "-CA", "\(directory)/\(root).pem", "-CAkey",
                "\(directory)/\(root).key", "-CAcreateserial", "-days", "100", "-out", "\(directory)/old-\(index).pem",
            ])
        }
        let rootPEM = try String(contentsOfFile: "\(directory)/legacy.pem", encoding: .utf8)
        let anchor = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "legacy", "certificate": rootPEM]
        )
        #expect(anchor.status == 201 && anchor.json["kind"] as? String == "trust-anchor", "\(anchor.text)")
        let again = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "legacy", "certificate": rootPEM]
        )
        #expect(again.status == 409, "\(again.text)")
        let leafAsCA = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: [
                "id": "not-a-ca", "certificate": try String(contentsOfFile: "\(directory)/old-0.pem", encoding: .utf8),
            ]
        )
        #expect(leafAsCA.status == 400 && leafAsCA.errorMessage.contains("not a CA certificate"), "\(leafAsCA.text)")
        // A trust anchor signs nothing here.
        let csr = try makeCSR(directory, name: "new", newkey: Self.leafKeys[0].newkey, subject: "/CN=new")
        let refused = try await server.request(
            "POST",
            "/v1/cas/legacy/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "device"]
        )
        #expect(refused.status == 409 && refused.errorMessage.contains("trust anchor"), "\(refused.text)")

        // PEM with two of its certificates and a foreign one.
        let pem = try [0, 1, 3].map { try String(contentsOfFile: "\(directory)/old-\($0).pem", encoding: .utf8) }
            .joined()
        let first = try await server.request(
            "POST",
            "/v1/cas/legacy/certificates/import?metadata.batch=old",
            token: server.adminToken,
            body: Data(pem.utf8),
            contentType: "application/x-pem-file"
        )
        #expect(first.status == 200 && first.json["imported"] as? Int == 2, "\(first.text)")
        let skipped = first.json["skipped"] as? [[String: Any]] ?? []
        #expect(
            skipped.count == 1 && (skipped.first?["reason"] as? String ?? "").contains("not signed"),
            "\(first.text)"
        )
        // PKCS#7 (DER) with a new one and one stored already.
        try openssl([
            "crl2pkcs7", "-nocrl", "-certfile", "\(directory)/old-2.pem", "-certfile", "\(directory)/old-0.pem",
            "-outform", "DER", "-out", "\(directory)/bundle.p7b",
        ])
        let second = try await server.request(
            "POST",
            "/v1/cas/legacy/certificates/import",
            token: server.adminToken,
            body: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/bundle.p7b")),
            contentType: "application/pkcs7-mime"
        )
        #expect(
            second.json["imported"] as? Int == 1 && (second.json["skipped"] as? [Any])?.count == 1,
            "\(second.text)"
        )
        // Garbage and a truncated PEM.
        let one = try String(contentsOfFile: "\(directory)/old-1.pem", encoding: .utf8)
        for body in [Data("garbage".utf8), Data((one + one.prefix(one.count / 2)).utf8)] {
            let bad = try await server.request(
                "POST",
                "/v1/cas/legacy/certificates/import",
                token: server.adminToken,
                body: body,
                contentType: "application/octet-stream"
            )
            #expect(bad.status == 400 && bad.errorCode == "invalid_certificate", "\(bad.text)")
        }
        let search = try await server.request("GET", "/v1/certificates?metadata.batch=old", token: server.adminToken)
        #expect((search.json["certificates"] as? [Any])?.count == 2, "\(search.text)")
        // The CLI, with progress, on the store the server has open; DER input.
        try openssl(["x509", "-in", "\(directory)/old-4.pem", "-outform", "DER", "-out", "\(directory)/old-4.der"])
        let custos = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("custos").path
        let cli = try runCommand(
            custos,
            [
                "cert", "import", "--ca", "legacy", "--metadata", "batch=cli", "--data-dir", server.directory,
                "\(directory)/old-4.der",
            ]
        )
        #expect(
            cli.status == 0 && cli.stdout.contains("stored 1/1") && cli.stdout.contains("imported 1, skipped 0"),
            "\(cli.stdout) \(cli.stderr)"
        )
        let missing = try runCommand(
            custos,
            ["cert", "import", "--ca", "legacy", "--data-dir", server.directory, "\(directory)/nope.pem"]
        )
        #expect(missing.status != 0 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
        let summary = try await server.request("GET", "/v1/reports/summary", token: server.adminToken)
        #expect(
            summary.text.contains(#""category":"imported""#) && summary.text.contains(#""count":4"#),
            "\(summary.text)"
        )
    }

    // MARK: Helpers

    func certificateCount(_ server: ServerFixture) throws -> Int {
        try server.api.store.read { try $0.records(CertificateRecord.self, after: nil, limit: .max).count }
    }

    /// Creates a CA through the API; returns its JSON (or the error object when `expect` is not 201).
    @Test func serialsCarryTheIssuanceTimeThenEightyRandomBits() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-serials")
        try await createCA(server, id: "serials", algorithm: "ec-p256", subject: "CN=Serials")
        let csr = try makeCSR(directory, name: "leaf", newkey: Self.leafKeys[0].newkey, subject: "/CN=leaf")
        var times: [UInt64] = []
        var tails: Set<[UInt8]> = []
        for _ in 0..<24 {
            let before = UInt64(Date().timeIntervalSince1970 * 1000)
            let issued = try await server.request(
                "POST",
                "/v1/cas/serials/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "device"]
            )
            try #require(issued.status == 201, "\(issued.text)")
            let after = UInt64(Date().timeIntervalSince1970 * 1000) + 1
            let hex = issued.json["serial"] as! String
            let bytes = try #require(Hex.decode(hex))
            // As the certificate carries it: a positive 16-byte INTEGER.
            let pem = issued.json["certificate"] as! String
            let certificate = try Certificate(pemEncoded: pem)
            #expect(Array(certificate.serialNumber.bytes) == bytes)
            #expect(bytes.count == 16 && bytes[0] & 0xC0 == 0x40, "\(hex)")
            let milliseconds = bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & (1 << 46 - 1)
            #expect((before...after).contains(milliseconds), "\(hex): \(milliseconds) not in \(before)...\(after)")
            times.append(milliseconds)
            tails.insert(Array(bytes.suffix(10)))
        }
        // Ordered by time (the store appends them), while the random tails all differ.
        #expect(times == times.sorted())
        #expect(tails.count == times.count)
    }

    @discardableResult
    func createCA(
        _ server: ServerFixture,
        id: String,
        algorithm: String,
        subject: String,
        parent: String? = nil,
        pathLength: Int? = nil,
        validityDays: Int? = nil,
        expect status: Int = 201
    ) async throws -> [String: Any] {
        var body: [String: Any] = ["id": id, "algorithm": algorithm, "subject": subject]
        if let validityDays { body["validityDays"] = validityDays }
        if let parent { body["parent"] = parent }
        if let pathLength { body["pathLength"] = pathLength }
        let result = try await server.request("POST", "/v1/cas", token: server.adminToken, json: body)
        #expect(result.status == status, "creating CA \(id): \(result.text)")
        return status == 201 ? result.json : (result.json["error"] as? [String: Any] ?? [:])
    }
}

/// A CSR made by openssl with a fresh key; returns its PEM.
func makeCSR(_ directory: String, name: String, newkey: [String], subject: String, extra: [String] = []) throws
    -> String
{
    let csrPath = "\(directory)/\(name).csr"
    let result = try runCommand(
        "openssl",
        ["req", "-new"] + newkey + ["-nodes", "-keyout", "\(directory)/\(name).key", "-subj", subject, "-out", csrPath]
            + extra
    )
    guard result.status == 0 else { throw TestFailure("openssl req: \(result.stderr)") }
    return try String(contentsOfFile: csrPath, encoding: .utf8)
}

/// A stored-policy body for the role matrix.
enum IssuancePolicyJSON {
    static var user: [String: Any] {
        [
            "validityDays": 365, "maxValidityDays": 365, "certificatePolicies": [],
            "allowedKeyAlgorithms": ["ec-p256"], "requiredSubjectAttributes": ["CN"],
            "allowedSubjectAttributes": ["CN": ".+"], "allowedSANTypes": ["email": ".+"],
            "requireSAN": false, "commonNameInSAN": false, "allowPublicKeyReuse": true,
        ]
    }
}
