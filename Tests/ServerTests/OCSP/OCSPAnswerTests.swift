import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing

/// Answers over HTTP that openssl and Python verify, and OCSP error statuses for bad requests.
extension OCSPRouteTests {
    @Test func goodRevokedAndUnknownAnswersVerifyWithOpenSSLAndPython() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp")
        let ca = CARouteTests()
        try await ca.createCA(server, id: "ocsp-root", algorithm: "ec-p384", subject: "CN=OCSP Root", pathLength: 1)
        try await ca.createCA(
            server,
            id: "ocsp-issuing",
            algorithm: "rsa-2048",
            subject: "CN=OCSP Issuing",
            parent: "ocsp-root"
        )
        var leaves: [String: (serial: String, path: String)] = [:]
        for name in ["alpha", "beta"] {
            let issued = try await issueLeaf(server, ca: "ocsp-issuing", name: name, in: directory)
            leaves[name] = (issued.serial, issued.path)
        }
        let chain = try await server.request("GET", "/v1/cas/ocsp-issuing/chain", token: server.adminToken)
        let chainPath = try writeFile(directory, "chain.pem", chain.body)
        let issuing = try await server.request("GET", "/v1/cas/ocsp-issuing/certificate", token: server.adminToken)
        let issuerPath = try writeFile(directory, "issuing.pem", issuing.body)
        let url = "http://127.0.0.1:\(server.port)/ocsp"

        func ask(_ arguments: [String]) async throws -> String {
            let result = try await runClient(
                "openssl",
                ["ocsp", "-issuer", issuerPath, "-url", url, "-CAfile", chainPath, "-resp_text"] + arguments
            )
            return result.stdout + result.stderr
        }
        // Good, with a nonce (openssl sends one by default) that comes back.
        let good = try await ask(["-cert", leaves["alpha"]!.path])
        #expect(good.contains("Response verify OK") && good.contains("\(leaves["alpha"]!.path): good"), "\(good)")
        #expect(!good.contains("WARNING"), "the nonce is echoed: \(good)")
        #expect(good.contains("Next Update:"), "\(good)")
        // ResponderID byKey: openssl prints the 20-byte SHA-1 key hash (byName would print a name).
        let responderID =
            good.split(separator: "\n").first { $0.contains("Responder Id:") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? ""
        #expect(responderID.count == 40 && responderID.allSatisfy(\.isHexDigit), "\(good)")

        // Revoked, with time and reason; the other certificate stays good in the same request.
        let revoked = try await server.request(
            "POST",
            "/v1/cas/ocsp-issuing/certificates/\(leaves["alpha"]!.serial)/revoke",
            token: server.adminToken,
            json: ["reason": "keyCompromise"]
        )
        try #require(revoked.status == 200, "\(revoked.text)")
        let both = try await ask(["-cert", leaves["alpha"]!.path, "-cert", leaves["beta"]!.path])
        #expect(
            both.contains("\(leaves["alpha"]!.path): revoked") && both.contains("Reason: keyCompromise")
                && both.contains("Revocation Time:") && both.contains("\(leaves["beta"]!.path): good"),
            "\(both)"
        )
        // A serial this CA never issued is unknown, never good.
        let unknown = try await ask(["-serial", "0x0123456789abcdef"])
        #expect(unknown.contains("0x0123456789abcdef: unknown"), "\(unknown)")

        // GET, base64 in the path, with caching headers; 304 on If-None-Match; the body verifies.
        let request = try runCommand(
            "openssl",
            [
                "ocsp", "-issuer", issuerPath, "-cert", leaves["beta"]!.path, "-no_nonce", "-reqout",
                "\(directory)/req.der",
            ]
        )
        try #require(request.status == 0, "\(request.stderr)")
        let requestDER = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/req.der"))
        let encoded = requestDER.base64EncodedString()
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let get = try await server.request("GET", "/ocsp/\(encoded)", token: nil)
        #expect(get.status == 200 && get.headers["content-type"] == "application/ocsp-response")
        let cacheControl = get.headers["cache-control"] ?? ""
        #expect(
            cacheControl.contains("max-age=") && cacheControl.contains("public")
                && cacheControl.contains("no-transform") && cacheControl.contains("must-revalidate"),
            "\(get.headers)"
        )
        #expect(get.headers["last-modified"] != nil && get.headers["expires"] != nil)
        let etag = try #require(get.headers["etag"])
        let responsePath = try writeFile(directory, "get.der", get.body)
        let checked = try runCommand(
            "openssl",
            [
                "ocsp", "-respin", responsePath, "-issuer", issuerPath, "-cert", leaves["beta"]!.path, "-CAfile",
                chainPath,
            ]
        )
        #expect(
            (checked.stdout + checked.stderr).contains("Response verify OK")
                && checked.stdout.contains("\(leaves["beta"]!.path): good"),
            "\(checked.stdout) \(checked.stderr)"
        )
        let notModified = try await server.request(
            "GET",
            "/ocsp/\(encoded)",
            token: nil,
            headers: ["If-None-Match": etag]
        )
        #expect(notModified.status == 304, "\(notModified.status)")
        // '+' turned into a space by a proxy still decodes (most requests have a '+'; the CertID's hashes vary).
        let spaced = requestDER.base64EncodedString().replacingOccurrences(of: "+", with: "%20")
        let tolerant = try await server.request("GET", "/ocsp/\(spaced)", token: nil)
        let tolerantPath = try writeFile(directory, "tolerant.der", tolerant.body)
        let tolerantCheck = try runCommand(
            "openssl",
            [
                "ocsp", "-respin", tolerantPath, "-issuer", issuerPath, "-cert", leaves["beta"]!.path, "-CAfile",
                chainPath,
            ]
        )
        #expect(
            tolerantCheck.stdout.contains("\(leaves["beta"]!.path): good"),
            "\(tolerantCheck.stdout) \(tolerantCheck.stderr)"
        )

        // pkilint on a good, a revoked and a nonce response.
        let revokedRequest = try runCommand(
            "openssl",
            ["ocsp", "-issuer", issuerPath, "-cert", leaves["alpha"]!.path, "-reqout", "\(directory)/revoked-req.der"]
        )
        try #require(revokedRequest.status == 0)
        let revokedAnswer = try await server.request(
            "POST",
            "/ocsp",
            token: nil,
            body: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/revoked-req.der")),
            contentType: "application/ocsp-request"
        )
        #expect(revokedAnswer.headers["cache-control"] == "no-store")
        let revokedPath = try writeFile(directory, "revoked.der", revokedAnswer.body)
        for path in [responsePath, revokedPath] {
            let lint = try runCommand("lint_ocsp_response", ["lint", "-s", "WARNING", "-f", "CSV", path])
            let findings = lint.stdout.split(separator: "\n").dropFirst()
            #expect(lint.status == 0 && findings.isEmpty, "\(path): \(lint.stdout) \(lint.stderr)")
        }

        // A Python relying party: builds requests, checks status, signature and nonce with `cryptography`.
        let script = """
            import sys, urllib.request
            from cryptography import x509
            from cryptography.x509 import ocsp
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding
            url, issuer_path, leaf_path, nonce_size, algorithm = sys.argv[1:6]
            issuer = x509.load_pem_x509_certificate(open(issuer_path, 'rb').read())
            leaf = x509.load_pem_x509_certificate(open(leaf_path, 'rb').read())
            builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, getattr(hashes, algorithm)())
            nonce = bytes(range(int(nonce_size)))
            if nonce:
                builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
            data = builder.build().public_bytes(serialization.Encoding.DER)
            reply = urllib.request.urlopen(urllib.request.Request(url, data=data,
                headers={'Content-Type': 'application/ocsp-request'})).read()
            response = ocsp.load_der_ocsp_response(reply)
            if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
                print('status', response.response_status.name); sys.exit(0)
            issuer.public_key().verify(response.signature, response.tbs_response_bytes,
                padding.PKCS1v15(), response.signature_hash_algorithm)
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce if nonce else b''
            assert echoed == nonce, 'nonce'
            print('cert', response.certificate_status.name, response.revocation_reason)
            """
        func python(_ leaf: String, nonce: Int, algorithm: String = "SHA256") async throws -> String {
            let result = try await runClient(
                "python3",
                ["-c", script, url, issuerPath, leaf, String(nonce), algorithm]
            )
            return result.stdout + result.stderr
        }
        #expect(try await python(leaves["beta"]!.path, nonce: 32).contains("cert GOOD"))
        #expect(try await python(leaves["beta"]!.path, nonce: 0, algorithm: "SHA1").contains("cert GOOD"))
        #expect(try await python(leaves["alpha"]!.path, nonce: 1).contains("cert REVOKED ReasonFlags.key_compromise"))
        #expect(try await python(leaves["beta"]!.path, nonce: 33).contains("status MALFORMED_REQUEST"))
        #expect(try await python(leaves["beta"]!.path, nonce: 0, algorithm: "SHA384").contains("status UNAUTHORIZED"))
    }

    @Test func badRequestsGetOCSPErrorStatusesNeverAServerError() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-bad")
        try await CARouteTests().createCA(server, id: "bad-root", algorithm: "ec-p256", subject: "CN=Bad Root")
        // A request for a CA outside Custos: unauthorized.
        let foreign = try runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/foreign.key", "-subj", "/CN=Foreign", "-out", "\(directory)/foreign.pem",
            ]
        )
        try #require(foreign.status == 0)
        let foreignRequest = try runCommand(
            "openssl",
            ["ocsp", "-issuer", "\(directory)/foreign.pem", "-serial", "0x01", "-reqout", "\(directory)/foreign.req"]
        )
        try #require(foreignRequest.status == 0)
        let foreignDER = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/foreign.req"))
        let malformed: [UInt8] = [0x30, 0x03, 0x0A, 0x01, 0x01]
        let unauthorized: [UInt8] = [0x30, 0x03, 0x0A, 0x01, 0x06]
        let cases: [(name: String, body: Data, type: String, expected: [UInt8])] = [
            ("garbage", Data("hello, responder".utf8), "application/ocsp-request", malformed),
            ("truncated", foreignDER.prefix(foreignDER.count - 3), "application/ocsp-request", malformed),
            ("trailing bytes", foreignDER + Data([0]), "application/ocsp-request", malformed),
            ("wrong content type", foreignDER, "application/json", malformed),
            ("empty", Data(), "application/ocsp-request", malformed),
            ("oversized", Data(repeating: 0x30, count: 100_000), "application/ocsp-request", malformed),
            ("foreign issuer", foreignDER, "application/ocsp-request", unauthorized),
        ]
        for testCase in cases {
            let answer = try await server.request(
                "POST",
                "/ocsp",
                token: nil,
                body: testCase.body,
                contentType: testCase.type
            )
            #expect(answer.status == 200, "\(testCase.name): \(answer.status)")
            #expect(Array(answer.body) == testCase.expected, "\(testCase.name): \(Array(answer.body))")
            #expect(answer.headers["content-type"] == "application/ocsp-response", "\(testCase.name)")
            #expect(answer.headers["cache-control"] == "no-store", "\(testCase.name)")
        }
        // GET paths a proxy mangled: slashes inside the base64 collapsed to one, '+' turned into a space.
        // The request names a foreign issuer, so a repaired path gets `unauthorized`, a broken one
        // `malformedRequest`; its hashes are chosen so that the base64 has "////" and "++++".
        var tried = 0
        for padding in 0..<3 {
            let name = [UInt8](repeating: 0, count: padding) + [0xFF, 0xFF, 0xFF] + [0xFB, 0xEF, 0xBE] + [0, 0, 0]
            let request = try Self.ocspRequest(nameHash: name, keyHash: [UInt8](repeating: 7, count: 20))
            let text = Data(request).base64EncodedString()
            guard text.contains("//"), text.contains("+") else { continue }
            tried += 1
            let mangled = text.replacingOccurrences(of: "/+", with: "/", options: .regularExpression)
                .replacingOccurrences(of: "+", with: "%20")
            let answer = try await server.request("GET", "/ocsp/\(mangled)", token: nil)
            #expect(Array(answer.body) == unauthorized, "\(text) → \(mangled): \(Array(answer.body))")
            let intact = try await server.request(
                "GET",
                "/ocsp/\(text.replacingOccurrences(of: "+", with: "%2B"))",
                token: nil
            )
            #expect(Array(intact.body) == unauthorized, "\(text)")
        }
        #expect(tried >= 1)
        // A path of slashes (the repair is bounded): malformed, at once.
        let slashes = try await server.request("GET", "/ocsp/M" + String(repeating: "/", count: 8000), token: nil)
        #expect(Array(slashes.body) == malformed, "\(Array(slashes.body))")
        let badGet = try await server.request("GET", "/ocsp/not*base64", token: nil)
        #expect(badGet.status == 200 && Array(badGet.body) == malformed, "\(badGet.status) \(Array(badGet.body))")
        // A GET with no request at all is an OCSP request too, and malformed.
        for path in ["/ocsp", "/ocsp/", "/ocsp//"] {
            let empty = try await server.request("GET", path, token: nil)
            #expect(
                empty.status == 200 && Array(empty.body) == malformed
                    && empty.headers["content-type"] == "application/ocsp-response",
                "\(path): \(empty.status) \(empty.text)"
            )
        }
        // The service is still up.
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
    }
}
