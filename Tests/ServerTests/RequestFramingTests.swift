import CustosTestSupport
import Foundation
import Testing

/// Requests whose framing is wrong get the API's JSON errors with the right status: a body that is not
/// declared JSON (415), a chunked body that breaks off (400), a request line or headers over the limit
/// (431), bytes that are not HTTP (400); and none of them changes anything.
@Suite(.serialized, .stopsServers) struct RequestFramingTests {
    @Test func jsonRoutesTakeOnlyBodiesDeclaredJSON() async throws {
        let server = try await ServerFixture()
        let body = Data(#"{"name":"typed","algorithm":"ec-p256"}"#.utf8)
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""] {
            let answer = try await server.request(
                "POST",
                "/v1/keys",
                token: server.adminToken,
                body: body,
                contentType: type
            )
            #expect(answer.status == 415 && answer.errorCode == "unsupported_media_type", "\(type): \(answer.text)")
        }
        let keys = try await server.request("GET", "/v1/keys", token: server.adminToken)
        #expect((keys.json["keys"] as? [Any])?.isEmpty == true, "a refused body created a key: \(keys.text)")
        for (index, type) in ["application/json", "application/json; charset=utf-8", "Application/JSON"].enumerated() {
            let name = "typed-\(index)"
            let answer = try await server.request(
                "POST",
                "/v1/keys",
                token: server.adminToken,
                body: Data(#"{"name":"\#(name)","algorithm":"ec-p256"}"#.utf8),
                contentType: type
            )
            #expect(answer.status == 201, "\(type): \(answer.text)")
        }
    }

    @Test func aBrokenChunkedBodyIsABadRequest() async throws {
        let server = try await ServerFixture()
        let connection = try RawConnection(port: server.port)
        // A chunk that says 16 bytes, then bytes that are not a chunk size.
        connection.send(
            "POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(server.adminToken)\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "10\r\n{\"name\":\"chunky\",\r\nzz\r\n\r\n"
        )
        let (bytes, _) = connection.receive(timeout: .seconds(5))
        let answer = try #require(RawConnection.response(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        #expect(answer.status == 400 && answer.body.contains("\"code\""), "\(answer)")
        let keys = try await server.request("GET", "/v1/keys", token: server.adminToken)
        #expect((keys.json["keys"] as? [Any])?.isEmpty == true)
    }

    @Test func headsOverTheLimitOrNotHTTPGetJSONErrors() async throws {
        let server = try await ServerFixture()
        let cases: [(name: String, request: String, status: Int, code: String)] = [
            (
                "long request line",
                "GET /v1/health?" + String(repeating: "a", count: 120_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431,
                "headers_too_large"
            ),
            (
                "long header",
                "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 120_000) + "\r\n\r\n",
                431, "headers_too_large"
            ),
            ("not HTTP", "HELLO THERE\r\n\r\n", 400, "malformed_request"),
            ("bad header line", "GET /v1/health HTTP/1.1\r\nno colon here\r\n\r\n", 400, "malformed_request"),
        ]
        for testCase in cases {
            let connection = try RawConnection(port: server.port)
            connection.send(testCase.request)
            let (bytes, closed) = connection.receive(timeout: .seconds(5))
            let answer = try #require(
                RawConnection.response(bytes),
                "\(testCase.name): \(String(decoding: bytes.prefix(300), as: UTF8.self))"
            )
            #expect(answer.status == testCase.status, "\(testCase.name): \(answer)")
            let error = try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: [String: String]]
            #expect(error?["error"]?["code"] == testCase.code, "\(testCase.name): \(answer.body)")
            #expect(closed, "\(testCase.name): the connection stays open after a request it cannot read")
        }
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
    }

    /// An artifact streamed with a chunked encoding that breaks off is the client's error (400), and the
    /// server goes on serving.
    @Test func aBrokenStreamedArtifactIsABadRequest() async throws {
        let server = try await ServerFixture()
        let ca = try TestCA()
        _ = try await CodeSigningTests().attachCertificate(server, ca, key: "stream-1", algorithm: "ec-p256")
        let signer = try await server.credential(.signer, keys: ["stream-*"])
        let connection = try RawConnection(port: server.port)
        connection.send(
            "POST /v1/codesign/stream-1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(signer)\r\n"
                + "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "8\r\nartifact\r\nnot-a-size\r\n\r\n"
        )
        let (bytes, _) = connection.receive(timeout: .seconds(5))
        let answer = try #require(RawConnection.response(bytes), "\(String(decoding: bytes, as: UTF8.self))")
        #expect(answer.status == 400 && answer.body.contains("\"code\""), "\(answer)")
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
    }
}
