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

/// Chains of every depth and algorithm, and every category, checked by openssl and pkilint.
extension CARouteTests {
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
}
