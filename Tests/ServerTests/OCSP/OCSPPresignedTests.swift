import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing

/// Pre-signed answers on the fast path: served from the store, never past a revocation, in order.
extension OCSPRouteTests {
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
}
