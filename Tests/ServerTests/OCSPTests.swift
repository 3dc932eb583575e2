// Over 400 lines: the responder over HTTP with openssl ocsp: GET, POST, caching, nonces, errors, proxies and pre-signing.
import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing

/// The OCSP responder over real HTTP, asked by `openssl ocsp`, by curl (GET) and by Python's
/// `cryptography` as a relying party, and linted with pkilint's `lint_ocsp_response`.
@Suite(.serialized, .stopsServers) struct OCSPRouteTests {
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
            let csr = try makeCSR(
                directory,
                name: name,
                newkey: CARouteTests.leafKeys[0].newkey,
                subject: "/CN=\(name)"
            )
            let issued = try await server.request(
                "POST",
                "/v1/cas/ocsp-issuing/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "device"]
            )
            try #require(issued.status == 201, "\(issued.text)")
            let path = try writeFile(directory, "\(name).pem", Data((issued.json["certificate"] as! String).utf8))
            leaves[name] = (issued.json["serial"] as! String, path)
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

    @Test func presignedAnswersAreServedAndNeverOutliveARevocation() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-presigned")
        let (serial, leafPath, rootPath) = try await rootAndLeaf(
            server,
            "pre-root",
            "CN=Presigning Root",
            in: directory
        )
        // Signed ahead: the leaf and the root's own certificate, under SHA-1 and SHA-256 CertIDs.
        #expect(await server.api.ocsp.refreshDue() == 4)
        #expect(await server.api.ocsp.refreshDue() == 0, "nothing is due right after a pass")

        func ask(_ name: String) async throws -> (status: String, source: Int) {
            let made = try runCommand(
                "openssl",
                ["ocsp", "-issuer", rootPath, "-cert", leafPath, "-no_nonce", "-reqout", "\(directory)/\(name).req"]
            )
            try #require(made.status == 0, "\(made.stderr)")
            let before = try await presignedCount(server)
            let answer = try await server.request(
                "POST",
                "/ocsp",
                token: nil,
                body: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).req")),
                contentType: "application/ocsp-request"
            )
            let path = try writeFile(directory, "\(name).der", answer.body)
            let checked = try runCommand(
                "openssl",
                ["ocsp", "-respin", path, "-issuer", rootPath, "-cert", leafPath, "-CAfile", rootPath]
            )
            #expect((checked.stdout + checked.stderr).contains("Response verify OK"), "\(checked.stderr)")
            let status = checked.stdout.split(separator: "\n").first { $0.hasPrefix(leafPath) }.map(String.init) ?? ""
            return (status, try await presignedCount(server) - before)
        }
        let first = try await ask("first")
        #expect(first.status.hasSuffix(": good") && first.source == 1, "\(first)")

        // Revoked: the stored "good" is gone with the revocation's commit; the next answer says revoked.
        let revoked = try await server.request(
            "POST",
            "/v1/cas/pre-root/certificates/\(serial)/revoke",
            token: server.adminToken,
            json: ["reason": "superseded"]
        )
        try #require(revoked.status == 200, "\(revoked.text)")
        let second = try await ask("second")
        #expect(second.status.hasSuffix(": revoked") && second.source == 0, "signed live: \(second)")
        // That live answer is kept, and the next request gets it from the store.
        try await Task.sleep(for: .milliseconds(300))
        let third = try await ask("third")
        #expect(third.status.hasSuffix(": revoked") && third.source == 1, "\(third)")
    }

    /// The fast path keeps, per request path, the store key and the answer's caching headers; every
    /// GET still reads the store, so a revocation between two GETs of one path is answered revoked at
    /// once, and a new signature gets its own ETag.
    @Test func presignedGETsFollowTheStoreAcrossARevocationAndANewSignature() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-cache")
        let (serial, leafPath, rootPath) = try await rootAndLeaf(server, "cache-root", "CN=Cache Root", in: directory)
        #expect(await server.api.ocsp.refreshDue() == 4)
        try makeRequest(leafPath, rootPath, to: "\(directory)/leaf.req")
        let der = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/leaf.req"))
        let path = "/ocsp/" + der.base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var asked = 0
        /// The certificate's status in the answer to a GET, its ETag, and whether the fast path answered.
        func get(ifNoneMatch: String? = nil) async throws -> (status: String, eTag: String?, fast: Bool, code: Int) {
            asked += 1
            let answer = try await server.request(
                "GET",
                path,
                token: nil,
                headers: ifNoneMatch.map { ["If-None-Match": $0] } ?? [:]
            )
            let fast = answer.headers["x-request-id"] == nil
            guard answer.status == 200 else { return ("", answer.headers["etag"], fast, answer.status) }
            let file = try writeFile(directory, "answer-\(asked).der", answer.body)
            let checked = try runCommand(
                "openssl",
                ["ocsp", "-respin", file, "-issuer", rootPath, "-cert", leafPath, "-CAfile", rootPath]
            )
            #expect((checked.stdout + checked.stderr).contains("Response verify OK"), "\(checked.stderr)")
            let status = checked.stdout.split(separator: "\n").first { $0.hasPrefix(leafPath) }.map(String.init) ?? ""
            if let eTag = answer.headers["etag"] {
                let sha1 = Insecure.SHA1.hash(data: answer.body).map { String(format: "%02x", $0) }.joined()
                #expect(eTag == "\"\(sha1)\"", "the ETag is the SHA-1 of the body")
            }
            return (status, answer.headers["etag"], fast, answer.status)
        }
        let first = try await get()
        #expect(first.status.hasSuffix(": good") && first.fast && first.code == 200, "\(first)")
        let again = try await get()
        #expect(again.status.hasSuffix(": good") && again.fast && again.eTag == first.eTag, "\(again)")
        #expect(try await get(ifNoneMatch: first.eTag).code == 304)

        let revoked = try await server.request(
            "POST",
            "/v1/cas/cache-root/certificates/\(serial)/revoke",
            token: server.adminToken,
            json: ["reason": "superseded"]
        )
        try #require(revoked.status == 200, "\(revoked.text)")
        // The stored answer went with the revocation: the router signs live.
        let live = try await get()
        #expect(live.status.hasSuffix(": revoked") && !live.fast, "\(live)")
        // Kept in the background; then the fast path serves the new answer with its own ETag, and the
        // old ETag no longer gets 304.
        var stored = live
        for _ in 0..<20 where !stored.fast {
            try await Task.sleep(for: .milliseconds(100))
            stored = try await get()
        }
        #expect(stored.status.hasSuffix(": revoked") && stored.fast, "\(stored)")
        #expect(stored.eTag != nil && stored.eTag != first.eTag)
        #expect(try await get(ifNoneMatch: first.eTag).code == 200)
        #expect(try await get(ifNoneMatch: stored.eTag).code == 304)
    }

    @Test func presignedGETsAreAnsweredAheadOfTheRouterInOrderOnOneConnection() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-fast")
        let (_, leafPath, rootPath) = try await rootAndLeaf(server, "fast-root", "CN=Fast Root", in: directory)
        #expect(await server.api.ocsp.refreshDue() == 4)
        try makeRequest(leafPath, rootPath, to: "\(directory)/leaf.req")
        func path(_ der: [UInt8]) -> String {
            "/ocsp/" + Data(der).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        }
        let known = path(Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/leaf.req"))))
        let foreign = path(
            try Self.ocspRequest(nameHash: Array(repeating: 7, count: 20), keyHash: Array(repeating: 9, count: 20))
        )

        // Four requests pipelined in one write: two with pre-signed answers (answered ahead of the
        // router: no request id), a miss (the router answers unauthorized), and one more with a
        // pre-signed answer asking to close, which waits behind the miss. The answers come back in
        // order; then the server closes.
        let script = """
            import socket, sys
            port, foreign, known = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            requests = [(known, ''), (known, ''), (foreign, ''), (known, 'Connection: close\\r\\n')]
            wire = ''.join(f'GET {p} HTTP/1.1\\r\\nHost: x\\r\\n{extra}\\r\\n' for p, extra in requests)
            connection = socket.create_connection(('127.0.0.1', port), timeout=10)
            connection.sendall(wire.encode())
            data = b''
            while True:
                chunk = connection.recv(65536)
                if not chunk: break
                data += chunk
            for index in range(len(requests)):
                head, _, data = data.partition(b'\\r\\n\\r\\n')
                lines = head.decode().split('\\r\\n')
                fields = {k.lower(): v.strip() for k, v in (l.split(':', 1) for l in lines[1:])}
                length = int(fields['content-length'])
                body, data = data[:length], data[length:]
                open(f'{sys.argv[4]}/answer{index}.der', 'wb').write(body)
                print(index, lines[0], 'request-id' if 'x-request-id' in fields else 'fast',
                      fields.get('cache-control', ''), 'etag' if 'etag' in fields else '',
                      'date' if 'date' in fields else '', fields.get('connection', ''), body.hex()[:12])
            print('left', len(data))
            """
        let result = try await runClient("python3", ["-c", script, String(server.port), foreign, known, directory])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(result.stdout) \(result.stderr)")
        for line in [lines[0], lines[1], lines[3]] {
            #expect(line.contains("HTTP/1.1 200") && line.contains("must-revalidate"), "\(line)")
            #expect(line.contains("etag") && line.contains("date") && !line.hasSuffix("30030a0106"), "\(line)")
        }
        #expect(lines[0].contains(" fast ") && lines[1].contains(" fast "), "\(lines)")
        #expect(lines[2].hasPrefix("2 HTTP/1.1 200") && lines[2].contains("request-id"), "\(lines[2])")
        #expect(lines[2].contains("no-store") && lines[2].hasSuffix("30030a0106"), "unauthorized: \(lines[2])")
        #expect(lines[4] == "left 0", "\(lines)")
        let first = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/answer0.der"))
        for index in [1, 3] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/answer\(index).der")) == first)
        }
        let checked = try runCommand(
            "openssl",
            [
                "ocsp", "-respin", "\(directory)/answer0.der", "-issuer", rootPath, "-cert", leafPath, "-CAfile",
                rootPath, "-no_nonce",
            ]
        )
        #expect(checked.stdout.contains("\(leafPath): good"), "\(checked.stdout) \(checked.stderr)")
        #expect((checked.stdout + checked.stderr).contains("Response verify OK"))

        // A client that asks to close gets its answer, then the close.
        let closing = try await runClient(
            "curl",
            ["-s", "-D", "-", "-o", "/dev/null", "-H", "Connection: close", "http://127.0.0.1:\(server.port)\(known)"]
        )
        #expect(closing.stdout.lowercased().contains("connection: close"), "\(closing.stdout)")
        #expect(
            !closing.stdout.lowercased().contains("x-request-id"),
            "answered ahead of the router: \(closing.stdout)"
        )
        // HTTP/1.0 closes unless asked to keep alive: answered in 1.0, then closed.
        let old = try await runClient(
            "curl",
            ["-s", "--http1.0", "-D", "-", "-o", "/dev/null", "http://127.0.0.1:\(server.port)\(known)"]
        )
        #expect(old.stdout.hasPrefix("HTTP/1.0 200"), "\(old.stdout)")
        #expect(old.stdout.lowercased().contains("connection: close"), "\(old.stdout)")
        #expect(!old.stdout.lowercased().contains("x-request-id"), "answered ahead of the router: \(old.stdout)")
        // Conditional requests are answered there too; a POST for the same certificate is not (no-store).
        let etag = try #require(try await server.request("GET", known, token: nil).headers["etag"])
        let notModified = try await server.request("GET", known, token: nil, headers: ["If-None-Match": etag])
        #expect(notModified.status == 304 && notModified.headers["x-request-id"] == nil, "\(notModified.headers)")
        let posted = try await server.request(
            "POST",
            "/ocsp",
            token: nil,
            body: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/leaf.req")),
            contentType: "application/ocsp-request"
        )
        #expect(posted.headers["cache-control"] == "no-store" && posted.body == first, "\(posted.headers)")
    }

    /// A minimal DER OCSP request with one SHA-1 CertID of the given hashes and serial 1.
    static func ocspRequest(nameHash: [UInt8], keyHash: [UInt8]) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { request in
            try request.appendConstructedNode(identifier: .sequence) { tbs in
                try tbs.appendConstructedNode(identifier: .sequence) { list in
                    try list.appendConstructedNode(identifier: .sequence) { single in
                        try single.appendConstructedNode(identifier: .sequence) { certID in
                            try certID.appendConstructedNode(identifier: .sequence) { algorithm in
                                try algorithm.serialize(ASN1ObjectIdentifier("1.3.14.3.2.26"))
                                try algorithm.serialize(ASN1Null())
                            }
                            try certID.serialize(ASN1OctetString(contentBytes: nameHash[...]))
                            try certID.serialize(ASN1OctetString(contentBytes: keyHash[...]))
                            try certID.serialize(1)
                        }
                    }
                }
            }
        }
        return coder.serializedBytes
    }

    /// `custos_ocsp_responses_total{source="presigned",status="successful"}` from /metrics.
    /// Signing ahead for new certificates steps aside while live work uses the HSM, and a pass cut short
    /// (by live work or by its limit) resumes where it stopped.
    @Test func signingAheadForNewCertificatesWaitsForLiveWorkAndResumes() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-defer")
        try await CARouteTests().createCA(server, id: "defer-root", algorithm: "ec-p256", subject: "CN=Deferring Root")
        func issue(_ name: String) async throws { try await issueDevice(server, ca: "defer-root", name, in: directory) }
        try await issue("first")
        try await issue("second")
        // Issuance just signed in the HSM: new certificates wait.
        let ocsp = server.api.ocsp
        #expect(await ocsp.refresh(deferringNew: .seconds(3600)) == .init(signed: 0, deferred: true))
        // The root's own certificate and two leaves, two CertIDs each, one certificate per pass.
        #expect(await ocsp.refresh(limit: 1) == .init(signed: 2, deferred: false))
        #expect(await ocsp.refreshDue(limit: 1) == 2)
        #expect(await ocsp.refreshDue(limit: 1) == 2)
        #expect(await ocsp.refreshDue() == 0)
        // Once the HSM has been free of live work for the window, new certificates are signed for.
        try await issue("third")
        try await Task.sleep(for: .milliseconds(150))
        #expect(await ocsp.refresh(deferringNew: .milliseconds(100)) == .init(signed: 2, deferred: false))
    }

    /// One pass reads on past a first batch of certificates that all have responses (here 600 stored
    /// directly, under an issuer id that sorts first) to the new ones behind it.
    @Test func signingAheadReadsPastCertificatesThatHaveResponses() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-scan")
        let now = Int64(Date().timeIntervalSince1970)
        _ = try await server.api.authority.store.write { txn in
            for index in 0..<600 {
                let serial = [0x40, UInt8(index >> 8), UInt8(index & 0xFF)]
                try txn.save(
                    CertificateRecord(
                        issuer: "a-earlier",
                        serial: serial,
                        subject: "CN=earlier \(index)",
                        notBefore: 0,
                        notAfter: (now + 86_400) * 1_000_000_000,
                        der: [0x30, 0x00],
                        metadata: [:]
                    )
                )
                for tag: UInt8 in [1, 2] {
                    try txn.save(
                        OCSPResponseRecord(
                            issuer: "a-earlier",
                            serial: serial,
                            hashAlgorithm: tag,
                            der: [0x30, 0x00],
                            thisUpdate: now,
                            nextUpdate: now + 86_400
                        )
                    )
                }
            }
        }
        try await CARouteTests().createCA(server, id: "scan-root", algorithm: "ec-p256", subject: "CN=Scanning Root")
        try await issueDevice(server, ca: "scan-root", "leaf", in: directory)
        // Looking at fewer certificates than lie before them finds nothing yet; the next pass goes on
        // from there to the root's own certificate and the leaf, two CertIDs each.
        let ocsp = server.api.ocsp
        #expect(await ocsp.refresh(scanLimit: 400) == .init(signed: 0, deferred: false))
        #expect(await ocsp.refresh(scanLimit: 400) == .init(signed: 4, deferred: false))
        // That pass reached the end: the next one starts at the front and reads on past the first 500.
        try await CARouteTests().createCA(server, id: "scan-second", algorithm: "ec-p256", subject: "CN=Second Root")
        #expect(await ocsp.refresh() == .init(signed: 2, deferred: false))
    }

    /// A CA created after the responder indexed the CAs is known at once: a live request naming it is
    /// answered (not `unauthorized`) and the next pass signs ahead for its certificates. The responder
    /// rebuilds its index when the CA table's change stamp moves (before, at most once a second, so a
    /// pass in that second skipped the new CA's certificates until the next cycle through the table).
    @Test func aCACreatedAfterTheIndexIsAnsweredForAndSignedAheadAtOnce() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-new-ca")
        let ocsp = server.api.ocsp
        try await CARouteTests().createCA(server, id: "early-root", algorithm: "ec-p256", subject: "CN=Early Root")
        // Builds the index: the root's own certificate, two CertIDs.
        #expect(await ocsp.refreshDue() == 2)
        let later = try await CARouteTests().createCA(
            server,
            id: "later-root",
            algorithm: "ec-p256",
            subject: "CN=Later Root"
        )
        let caPath = "\(directory)/later.pem"
        try (later["certificate"] as? String ?? "").write(toFile: caPath, atomically: true, encoding: .utf8)
        _ = try runCommand(
            "openssl",
            ["ocsp", "-issuer", caPath, "-serial", "0x1", "-no_nonce", "-reqout", "\(directory)/later.req"]
        )
        let request = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/later.req")))
        // Serial 1 was never issued: unknown, in a successful answer signed by the new CA.
        let answer = await ocsp.respond(to: request)
        #expect(answer.status == .successful && answer.source == .live, "\(answer.status) \(answer.source)")
        try await issueDevice(server, ca: "later-root", "later leaf", in: directory)
        // The new root's certificate and its leaf, two CertIDs each.
        #expect(await ocsp.refreshDue() == 4)
    }

    /// A new ECDSA P-256 root `ca` and a device certificate "leaf" it issued over the API: the leaf's
    /// serial and the paths of both certificates' PEM files in `directory`.
    func rootAndLeaf(_ server: ServerFixture, _ ca: String, _ subject: String, in directory: String) async throws
        -> (serial: String, leafPath: String, rootPath: String)
    {
        try await CARouteTests().createCA(server, id: ca, algorithm: "ec-p256", subject: subject)
        let issued = try await issueDevice(server, ca: ca, "leaf", in: directory)
        let leafPath = try writeFile(directory, "leaf.pem", Data((issued["certificate"] as! String).utf8))
        let rootPath = try writeFile(
            directory,
            "root.pem",
            try await server.request("GET", "/v1/cas/\(ca)/certificate", token: server.adminToken).body
        )
        return (issued["serial"] as! String, leafPath, rootPath)
    }

    /// Writes `openssl ocsp`'s request (no nonce) for the leaf to `path`.
    func makeRequest(_ leafPath: String, _ rootPath: String, to path: String) throws {
        let made = try runCommand(
            "openssl",
            ["ocsp", "-issuer", rootPath, "-cert", leafPath, "-no_nonce", "-reqout", path]
        )
        try #require(made.status == 0, "\(made.stderr)")
    }

    /// Issues a device certificate named `name` from `ca` over the API; returns the answer's JSON.
    @discardableResult
    func issueDevice(_ server: ServerFixture, ca: String, _ name: String, in directory: String) async throws
        -> [String: Any]
    {
        let csr = try makeCSR(directory, name: name, newkey: CARouteTests.leafKeys[0].newkey, subject: "/CN=\(name)")
        let issued = try await server.request(
            "POST",
            "/v1/cas/\(ca)/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "device"]
        )
        try #require(issued.status == 201, "\(issued.text)")
        return issued.json
    }

    func presignedCount(_ server: ServerFixture) async throws -> Int {
        let metrics = try await server.request("GET", "/metrics", token: server.adminToken)
        let line = metrics.text.split(separator: "\n").first {
            $0.hasPrefix("custos_ocsp_responses_total") && $0.contains(#"source="presigned""#)
                && $0.contains(#"status="successful""#)
        }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
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
        // The service is still up.
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
    }
}
