import Crypto
import CustosTestSupport
import Foundation
import Server
import Signing
import Testing

/// Bad requests get a 4xx with a JSON error naming the problem, and the server keeps serving.
@Suite(.serialized, .stopsServers) struct BadInputTests {
    @Test func badRequestsAreRefusedClearly() async throws {
        var configuration = ServerConfiguration(port: 0, maxBodyBytes: 64 * 1024)
        configuration.signing.maxBatchItems = 100
        let server = try await ServerFixture(configuration: configuration)
        try await server.createKey("k", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["*"])
        let digest = Data(SHA256.hash(data: Data("x".utf8))).base64EncodedString()
        let sign = "/v1/keys/k/sign"

        func expectRefusal(_ result: HTTPResult, _ status: Int, _ code: String, mentioning word: String? = nil) {
            #expect(result.status == status, "\(result.text)")
            #expect(result.errorCode == code, "\(result.text)")
            if let word {
                let message = (result.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains(word), "\(message)")
            }
        }

        expectRefusal(
            try await server.request("POST", sign, token: signer, body: Data("{\"digest\":".utf8)),
            400,
            "invalid_json"
        )
        expectRefusal(
            try await server.request("POST", sign, token: signer, body: Data()),
            400,
            "invalid_json",
            mentioning: "empty"
        )
        expectRefusal(
            try await server.request("POST", sign, token: signer, json: ["digest": 17]),
            400,
            "invalid_json",
            mentioning: "digest"
        )
        expectRefusal(
            try await server.request(
                "POST",
                sign,
                token: signer,
                json: ["digest": Data(count: 20).base64EncodedString()]
            ),
            400,
            "invalid_digest",
            mentioning: "32 bytes"
        )
        expectRefusal(
            try await server.request("POST", sign, token: signer, json: ["digest": digest, "hash": "sha1"]),
            400,
            "unsupported_scheme",
            mentioning: "sha1"
        )
        expectRefusal(
            try await server.request("POST", sign, token: signer, json: ["digest": digest, "scheme": "rsa-pss"]),
            400,
            "unsupported_scheme"
        )
        expectRefusal(
            try await server.request("POST", sign, token: signer, json: [:]),
            400,
            "invalid_input",
            mentioning: "digest or data"
        )
        expectRefusal(
            try await server.request("POST", "/v1/keys/nope/sign", token: signer, json: ["digest": digest]),
            404,
            "unknown_key",
            mentioning: "nope"
        )
        expectRefusal(
            try await server.request(
                "POST",
                "/v1/keys",
                token: server.adminToken,
                json: ["name": "x", "algorithm": "dsa-1024"]
            ),
            400,
            "unknown_algorithm",
            mentioning: "dsa-1024"
        )
        expectRefusal(
            try await server.request(
                "POST",
                "/v1/keys",
                token: server.adminToken,
                json: ["name": "bad name!", "algorithm": "ec-p256"]
            ),
            400,
            "invalid_input"
        )
        expectRefusal(
            try await server.request(
                "POST",
                "/v1/keys",
                token: server.adminToken,
                json: ["name": "k", "algorithm": "ec-p256"]
            ),
            409,
            "key_exists"
        )
        let big = Data(count: 100 * 1024).base64EncodedString()
        expectRefusal(try await server.request("POST", sign, token: signer, json: ["data": big]), 413, "body_too_large")
        expectRefusal(try await server.request("POST", sign, token: signer, json: ["items": []]), 400, "empty_batch")
        let tooMany = Array(repeating: ["digest": digest], count: 101)
        expectRefusal(
            try await server.request("POST", sign, token: signer, json: ["items": tooMany]),
            400,
            "batch_too_large"
        )
        expectRefusal(try await server.request("GET", "/v1/nothing-here", token: signer), 404, "not_found")

        // Still serving, and the store is intact: the key is there and signs.
        let health = try await server.request("GET", "/v1/health", token: nil)
        #expect(health.status == 200)
        let signed = try await server.request("POST", sign, token: signer, json: ["digest": digest])
        #expect(signed.status == 200)
        #expect(try server.schema.verifyAudit().firstBroken == nil)
    }

    @Test func overloadAndRateLimitsAnswerWithRetryAfter() async throws {
        // A slow refill (one signature per 10 s), so that a loaded machine's delay between the two
        // requests below cannot refill the bucket.
        var configuration = ServerConfiguration(port: 0, rateLimit: .init(signaturesPerSecond: 0.1, burst: 10))
        configuration.signing.maxQueuedSignatures = 50
        let server = try await ServerFixture(configuration: configuration)
        try await server.createKey("k", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["k"])
        let digest = Data(SHA256.hash(data: Data("x".utf8))).base64EncodedString()

        // More than the queue holds in one batch: refused whole, with Retry-After, nothing signed.
        let flood = try await server.request(
            "POST",
            "/v1/keys/k/sign",
            token: signer,
            json: ["items": Array(repeating: ["digest": digest], count: 60)]
        )
        #expect(flood.status == 429 || flood.status == 503, "\(flood.text)")

        // The rate limit: a burst of 10 signatures, then 429 with Retry-After.
        let other = try await server.credential(.signer, keys: ["k"])
        let burst = try await server.request(
            "POST",
            "/v1/keys/k/sign",
            token: other,
            json: ["items": Array(repeating: ["digest": digest], count: 10)]
        )
        #expect(burst.status == 200)
        let limited = try await server.request("POST", "/v1/keys/k/sign", token: other, json: ["digest": digest])
        #expect(limited.status == 429 && limited.errorCode == "rate_limited")
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
    }

    @Test func aFullQueueAnswers503() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.signing.maxQueuedSignatures = 50
        let server = try await ServerFixture(configuration: configuration)
        try await server.createKey("k", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["k"])
        let digest = Data(SHA256.hash(data: Data("x".utf8))).base64EncodedString()
        let flood = try await server.request(
            "POST",
            "/v1/keys/k/sign",
            token: signer,
            json: ["items": Array(repeating: ["digest": digest], count: 60)]
        )
        #expect(flood.status == 503 && flood.errorCode == "overloaded", "\(flood.text)")
        #expect(flood.headers["retry-after"] == "1")
        let fits = try await server.request(
            "POST",
            "/v1/keys/k/sign",
            token: signer,
            json: ["items": Array(repeating: ["digest": digest], count: 50)]
        )
        #expect(fits.status == 200)
    }
}
