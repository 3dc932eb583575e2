import Crypto
import CustosTestSupport
import Foundation
import PKCS11
import Server
import Signing
import SwiftASN1
import Testing
import X509

/// `POST /v1/codesign/{name}` over real HTTP; every signature is checked with `openssl cms -verify`
/// against a root that only the test holds, with the intermediate taken from the signature itself.
@Suite(.serialized, .stopsServers) struct CodeSigningTests {
    /// How a case sends its artifact.
    enum Input { case digest, data, stream }

    struct Case: CustomStringConvertible {
        var algorithm: String
        var input: Input
        var fields: [String: Any] = [:]
        var hash: HashAlgorithm
        var description: String { "\(algorithm) \(input) \(fields)" }
    }

    static var cases: [Case] {
        [
            Case(algorithm: "ec-p256", input: .digest, hash: .sha256),
            Case(algorithm: "ec-p384", input: .data, fields: ["hash": "sha384"], hash: .sha384),
            Case(algorithm: "ec-p521", input: .stream, hash: .sha512),
            Case(algorithm: "rsa-2048", input: .stream, hash: .sha256),
            Case(
                algorithm: "rsa-3072",
                input: .digest,
                fields: ["scheme": "rsa-pss", "hash": "sha384"],
                hash: .sha384
            ),
            Case(algorithm: "ed25519", input: .stream, hash: .sha512),
        ]
    }

    @Test func everyKeyTypeMakesCMSThatOpenSSLVerifies() async throws {
        let server = try await ServerFixture()
        let ca = try TestCA()
        let directory = try makeTemporaryDirectory("custos-cms")
        let rootPath = try writeFile(directory, "root.pem", Data(try ca.rootPEM.utf8))
        let artifact = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let artifactPath = try writeFile(directory, "artifact.bin", artifact)
        var modified = artifact
        modified[100_000] ^= 1
        let modifiedPath = try writeFile(directory, "modified.bin", modified)
        let signer = try await server.credential(.signer, keys: ["build-*"])
        var publicKeys: [String: String] = [:]

        for (index, testCase) in Self.cases.enumerated() {
            let name = "build-\(index)"
            publicKeys[name] = try await attachCertificate(server, ca, key: name, algorithm: testCase.algorithm)
            let response = try await codesign(server, name, testCase, artifact, token: signer)
            try #require(response.status == 200, "\(testCase): \(response.text)")
            #expect(response.headers["content-type"] == "application/pkcs7-signature")
            #expect(response.headers["custos-timestamped"] == "false")
            let signaturePath = try writeFile(directory, "\(name).p7s", response.body)

            if testCase.algorithm == "ed25519" {
                // OpenSSL before 3.2 cannot verify Ed25519 in CMS at all; check RFC 8419 by hand.
                try verifyEd25519ByHand(response, artifact, modified, publicKey: publicKeys[name]!, directory)
            } else {
                let verified = try runCommand("openssl", verifyArguments(signaturePath, artifactPath, rootPath))
                #expect(verified.status == 0, "\(testCase): \(verified.stderr)")
                #expect(verified.stderr.contains("Verification successful"), "\(testCase)")
                let tampered = try runCommand("openssl", verifyArguments(signaturePath, modifiedPath, rootPath))
                #expect(tampered.status != 0, "\(testCase): a modified artifact verified")
            }

            let printed = try runCommand(
                "openssl",
                ["cms", "-cmsout", "-print", "-inform", "DER", "-in", signaturePath]
            )
            #expect(printed.stdout.contains("signingTime") && printed.stdout.contains("contentType"), "\(testCase)")
            #expect(printed.stdout.contains("eContent: <ABSENT>"), "\(testCase): not detached")
            #expect(try ParsedCMS(Array(response.body)).certificateCount == 2, "leaf and intermediate embedded")
        }

        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        let entries = audit.json["entries"] as? [[String: Any]] ?? []
        let codesigns = entries.filter { $0["action"] as? String == "codesign" }
        #expect(codesigns.count == Self.cases.count, "one audit entry per code signature")
    }

    /// The command exactly, without `-purpose any`: OpenSSL 3.0 checks the signer for S/MIME
    /// signing by default, which a certificate passes when its EKU also names emailProtection.
    @Test func theDefaultOpenSSLCommandAcceptsACertificateAlsoForEmail() async throws {
        let server = try await ServerFixture()
        let ca = try TestCA()
        let directory = try makeTemporaryDirectory("custos-cms")
        let rootPath = try writeFile(directory, "root.pem", Data(try ca.rootPEM.utf8))
        let artifact = Data("release 1.0".utf8)
        let artifactPath = try writeFile(directory, "artifact", artifact)
        try await attachCertificate(
            server,
            ca,
            key: "release",
            algorithm: "ec-p256",
            usages: [.codeSigning, .emailProtection]
        )
        let response = try await server.request(
            "POST",
            "/v1/codesign/release",
            token: try await server.credential(.signer, keys: ["release"]),
            json: ["data": artifact.base64EncodedString()]
        )
        #expect(response.status == 200, "\(response.text)")
        let signaturePath = try writeFile(directory, "release.p7s", response.body)
        let verified = try runCommand(
            "openssl",
            [
                "cms", "-verify", "-binary", "-inform", "DER", "-in", signaturePath, "-content", artifactPath,
                "-CAfile", rootPath, "-out", "/dev/null",
            ]
        )
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test func keysWithoutAValidCodeSigningCertificateAreRefused() async throws {
        let server = try await ServerFixture(
            configuration: ServerConfiguration(port: 0, codeSigning: .init(maxArtifactBytes: 1000))
        )
        let ca = try TestCA()
        let signer = try await server.credential(.signer, keys: ["*"])
        let digest = ["digest": Data(SHA256.hash(data: Data("x".utf8))).base64EncodedString()]

        try await server.createKey("bare", "ec-p256")
        let bare = try await server.request("POST", "/v1/codesign/bare", token: signer, json: digest)
        #expect(bare.status == 409 && bare.errorCode == "no_certificate", "\(bare.text)")
        #expect(bare.errorMessage.contains("PUT /v1/keys/bare/certificate"))

        try await attachCertificate(server, ca, key: "tls", algorithm: "ec-p256", usages: [.serverAuth])
        let tls = try await server.request("POST", "/v1/codesign/tls", token: signer, json: digest)
        #expect(tls.status == 409 && tls.text.contains("codeSigning"), "\(tls.text)")

        try await attachCertificate(
            server,
            ca,
            key: "old",
            algorithm: "ec-p256",
            notValidAfter: Date() - 60
        )
        let old = try await server.request("POST", "/v1/codesign/old", token: signer, json: digest)
        #expect(old.status == 409 && old.text.contains("not now"), "\(old.text)")

        try await attachCertificate(server, ca, key: "good", algorithm: "ec-p256")
        let cases: [([String: Any], String)] = [
            (["digest": Data(repeating: 1, count: 20).base64EncodedString()], "invalid_digest"),
            (["digest": "%%%"], "invalid_input"),
            ([:], "invalid_input"),
            (["digest": digest["digest"]!, "data": "eA=="], "invalid_input"),
            (["digest": digest["digest"]!, "timestamp": "sometimes"], "invalid_input"),
            (["digest": digest["digest"]!, "hash": "md5"], "unsupported_scheme"),
            (["digest": digest["digest"]!, "scheme": "rsa-pss"], "unsupported_scheme"),
        ]
        for (body, code) in cases {
            let response = try await server.request("POST", "/v1/codesign/good", token: signer, json: body)
            #expect(response.status == 400 && response.errorCode == code, "\(body): \(response.text)")
        }
        let required = try await server.request(
            "POST",
            "/v1/codesign/good",
            token: signer,
            json: ["digest": digest["digest"]!, "timestamp": "required"]
        )
        #expect(required.status == 502 && required.errorCode == "timestamp_unavailable", "\(required.text)")

        let tooBig = try await server.request(
            "POST",
            "/v1/codesign/good",
            token: signer,
            body: Data(repeating: 7, count: 5000),
            contentType: "application/octet-stream"
        )
        #expect(tooBig.status == 413 && tooBig.errorCode == "body_too_large", "\(tooBig.text)")

        _ = try await server.request("POST", "/v1/keys/good/disable", token: server.adminToken)
        let disabled = try await server.request("POST", "/v1/codesign/good", token: signer, json: digest)
        #expect(disabled.status == 409 && disabled.errorCode == "key_disabled", "\(disabled.text)")

        // Still serving, and nothing was signed or audited for the refusals.
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        let entries = audit.json["entries"] as? [[String: Any]] ?? []
        #expect(!entries.contains { $0["action"] as? String == "codesign" })
    }

    /// The whole path with Custos' own CA: the key's CSR (signed in the HSM), issuance under the
    /// code-signing policy, the chain attached, a signature that OpenSSL verifies against the CA.
    @Test func aKeyCertifiedByCustosOwnCASignsWhatOpenSSLVerifies() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-csr")
        let created = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "release-root", "subject": "CN=Release Root,O=Example", "algorithm": "ec-p384"]
        )
        try #require(created.status == 201, "\(created.text)")
        let rootPath = try writeFile(
            directory,
            "root.pem",
            Data(try #require(created.json["certificate"] as? String).utf8)
        )
        let artifact = Data("release 4.2.0".utf8)
        let artifactPath = try writeFile(directory, "artifact", artifact)
        let signer = try await server.credential(.signer, keys: ["release-*"])

        for algorithm in ["ec-p256", "rsa-2048"] {
            let name = "release-\(algorithm)"
            let key = try await server.createKey(name, algorithm)
            let requested = try await server.request(
                "POST",
                "/v1/keys/\(name)/csr",
                token: server.adminToken,
                json: ["subject": "CN=Release signing \(algorithm),O=Example"]
            )
            try #require(requested.status == 200, "\(requested.text)")
            let csr = try #require(requested.json["csr"] as? String)
            let csrPath = try writeFile(directory, "\(name).csr", Data(csr.utf8))
            let verified = try runCommand("openssl", ["req", "-verify", "-noout", "-in", csrPath])
            #expect(
                verified.status == 0 && (verified.stdout + verified.stderr).contains("verify OK"),
                "\(verified.stderr)"
            )
            let publicKey = try runCommand("openssl", ["req", "-pubkey", "-noout", "-in", csrPath])
            #expect(publicKey.stdout == key.json["publicKey"] as? String, "the CSR is for the key's public key")
            let subject = try runCommand("openssl", ["req", "-subject", "-noout", "-in", csrPath])
            #expect(subject.stdout.contains("CN = Release signing \(algorithm)"), "\(subject.stdout)")

            let issued = try await server.request(
                "POST",
                "/v1/cas/release-root/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "code-signing"]
            )
            try #require(issued.status == 201, "\(issued.text)")
            let chain =
                [try #require(issued.json["certificate"] as? String)] + (issued.json["chain"] as? [String] ?? [])
            let attached = try await server.request(
                "PUT",
                "/v1/keys/\(name)/certificate",
                token: server.adminToken,
                json: ["certificateChain": chain.joined()]
            )
            try #require(attached.status == 200, "\(attached.text)")

            let signed = try await server.request(
                "POST",
                "/v1/codesign/\(name)",
                token: signer,
                json: ["digest": Data(SHA256.hash(data: artifact)).base64EncodedString()]
            )
            try #require(signed.status == 200, "\(signed.text)")
            let signaturePath = try writeFile(directory, "\(name).p7s", signed.body)
            let checked = try runCommand("openssl", verifyArguments(signaturePath, artifactPath, rootPath))
            #expect(checked.status == 0 && checked.stderr.contains("Verification successful"), "\(checked.stderr)")
        }

        // Refusals: nothing signed, nothing audited.
        let body = ["subject": "CN=x"]
        let bySigner = try await server.request("POST", "/v1/keys/release-ec-p256/csr", token: signer, json: body)
        #expect(bySigner.status == 403, "\(bySigner.text)")
        let unknown = try await server.request("POST", "/v1/keys/nothing/csr", token: server.adminToken, json: body)
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_key", "\(unknown.text)")
        let badBodies: [([String: Any], String)] = [
            (["subject": "no equals sign"], "invalid_input"), (["subject": ""], "invalid_input"), ([:], "invalid_json"),
        ]
        for (bad, code) in badBodies {
            let response = try await server.request(
                "POST",
                "/v1/keys/release-ec-p256/csr",
                token: server.adminToken,
                json: bad
            )
            #expect(response.status == 400 && response.errorCode == code, "\(bad): \(response.text)")
        }
        _ = try await server.request("POST", "/v1/keys/release-ec-p256/disable", token: server.adminToken)
        let disabled = try await server.request(
            "POST",
            "/v1/keys/release-ec-p256/csr",
            token: server.adminToken,
            json: body
        )
        #expect(disabled.status == 409 && disabled.errorCode == "key_disabled", "\(disabled.text)")

        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        let requests = (audit.json["entries"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "key.csr" }
        #expect(requests.count == 2, "one audit entry per request made")
        #expect(requests.allSatisfy { ($0["outcome"] as? String ?? "").contains("Release signing") })
    }

    @Test func timestampsComeFromTheFirstAuthorityThatAnswers() async throws {
        let tsa = try LocalTSA()
        defer { tsa.stop() }
        let dead = URL(string: "http://127.0.0.1:9/tsa")!
        let server = try await ServerFixture(
            configuration: ServerConfiguration(
                port: 0,
                codeSigning: .init(
                    timestamps: .init(urls: [dead, tsa.url], attempts: 2, timeout: .seconds(5)),
                    timestampPolicy: .required
                )
            )
        )
        let ca = try TestCA()
        let directory = try makeTemporaryDirectory("custos-cms")
        let rootPath = try writeFile(directory, "root.pem", Data(try ca.rootPEM.utf8))
        let artifact = Data("nightly build 2026-11-22".utf8)
        let artifactPath = try writeFile(directory, "artifact", artifact)
        try await attachCertificate(server, ca, key: "nightly", algorithm: "rsa-2048")
        let signer = try await server.credential(.signer, keys: ["nightly"])

        let response = try await server.request(
            "POST",
            "/v1/codesign/nightly",
            token: signer,
            json: ["data": artifact.base64EncodedString()]
        )
        #expect(response.status == 200, "\(response.text)")
        #expect(response.headers["custos-timestamped"] == "true")
        let signaturePath = try writeFile(directory, "nightly.p7s", response.body)
        let verified = try runCommand("openssl", verifyArguments(signaturePath, artifactPath, rootPath))
        #expect(verified.status == 0, "\(verified.stderr)")

        // The token covers the signature value and verifies against the TSA's root.
        let parsed = try ParsedCMS(Array(response.body))
        let token = try #require(parsed.unsignedAttributes.first { $0.0 == ObjectIdentifiers.timeStampToken })
        let tokenPath = try writeFile(directory, "token.der", Data(token.1))
        let signatureValuePath = try writeFile(directory, "signature.bin", Data(parsed.signature))
        let tokenVerified = try runCommand(
            "openssl",
            ["ts", "-verify", "-token_in", "-in", tokenPath, "-data", signatureValuePath, "-CAfile", tsa.rootPath]
        )
        #expect(tokenVerified.status == 0 && tokenVerified.stdout.contains("OK"), "\(tokenVerified.stderr)")
        let otherData = try writeFile(directory, "other.bin", Data("other".utf8))
        let wrongData = try runCommand(
            "openssl",
            ["ts", "-verify", "-token_in", "-in", tokenPath, "-data", otherData, "-CAfile", tsa.rootPath]
        )
        #expect(wrongData.status != 0)
        #expect(tsa.requestCount >= 1)
    }

    @Test func aRequiredTimestampFailsClearlyWhenNoAuthorityAnswers() async throws {
        let dead = URL(string: "http://127.0.0.1:9/tsa")!
        let alsoDead = URL(string: "http://127.0.0.1:7/tsa")!
        let server = try await ServerFixture(
            configuration: ServerConfiguration(
                port: 0,
                codeSigning: .init(timestamps: .init(urls: [dead, alsoDead], attempts: 2, timeout: .seconds(2)))
            )
        )
        let ca = try TestCA()
        try await attachCertificate(server, ca, key: "line", algorithm: "ec-p256")
        let signer = try await server.credential(.signer, keys: ["line"])
        let digest = Data(SHA256.hash(data: Data("x".utf8))).base64EncodedString()

        let required = try await server.request(
            "POST",
            "/v1/codesign/line",
            token: signer,
            json: ["digest": digest, "timestamp": "required"]
        )
        #expect(required.status == 502 && required.errorCode == "timestamp_unavailable", "\(required.text)")
        #expect(required.text.contains("127.0.0.1:9") && required.text.contains("127.0.0.1:7"), "\(required.text)")

        // The configured default here is `preferred`: signed, and the header says without a timestamp.
        let preferred = try await server.request("POST", "/v1/codesign/line", token: signer, json: ["digest": digest])
        #expect(preferred.status == 200, "\(preferred.text)")
        #expect(preferred.headers["custos-timestamped"] == "false")
        #expect(try ParsedCMS(Array(preferred.body)).unsignedAttributes.isEmpty)
    }

    // MARK: - Helpers
}
