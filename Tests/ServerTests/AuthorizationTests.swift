import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Every route against every kind of caller: the four roles, a signer for another key, no credential,
/// a wrong one and a revoked one. Refusals are 401/403 with a JSON body and leave an audit entry.
@Suite(.serialized, .stopsServers) struct AuthorizationTests {
    enum Caller: String, CaseIterable {
        case admin, officer, signer, otherSigner, auditor, none, wrong, revoked
    }

    struct Route {
        var method: String
        var path: String
        var body: [String: Any]?
        /// Callers that get past authorisation (any status but 401/403).
        var allowed: Set<Caller>
    }

    static let digest = Data(repeating: 7, count: 32).base64EncodedString()

    static var routes: [Route] {
        [
            Route(method: "GET", path: "/v1/health", allowed: Set(Caller.allCases)),
            Route(method: "GET", path: "/v1/ready", allowed: Set(Caller.allCases)),
            Route(method: "GET", path: "/metrics", allowed: [.admin, .auditor]),
            Route(
                method: "POST",
                path: "/v1/keys",
                body: ["name": "new-key", "algorithm": "ec-p256"],
                allowed: [.admin, .officer]
            ),
            Route(method: "GET", path: "/v1/keys", allowed: [.admin, .officer, .signer, .otherSigner, .auditor]),
            Route(method: "GET", path: "/v1/keys/prod-1", allowed: [.admin, .officer, .signer, .auditor]),
            Route(method: "POST", path: "/v1/keys/prod-1/disable", allowed: [.admin, .officer]),
            Route(method: "POST", path: "/v1/keys/prod-1/enable", allowed: [.admin, .officer]),
            Route(method: "POST", path: "/v1/keys/prod-1/sign", body: ["digest": digest], allowed: [.signer]),
            Route(
                method: "POST",
                path: "/v1/keys/prod-1/verify",
                body: ["digest": digest, "signature": "AAAA"],
                allowed: [.admin, .officer, .signer, .otherSigner, .auditor]
            ),
            Route(
                method: "PUT",
                path: "/v1/keys/prod-1/certificate",
                body: ["certificateChain": ""],
                allowed: [.admin, .officer]
            ),
            Route(
                method: "POST",
                path: "/v1/keys/prod-1/csr",
                body: ["subject": "CN=prod-1"],
                allowed: [.admin, .officer]
            ),
            Route(method: "POST", path: "/v1/codesign/prod-1", body: ["digest": digest], allowed: [.signer]),
            Route(method: "POST", path: "/v1/credentials", body: ["role": "auditor"], allowed: [.admin]),
            Route(method: "GET", path: "/v1/credentials", allowed: [.admin, .auditor]),
            Route(method: "DELETE", path: "/v1/credentials/does-not-exist", allowed: [.admin]),
            Route(method: "GET", path: "/v1/audit", allowed: [.admin, .auditor]),
        ]
    }

    @Test func everyRouteAgainstEveryCaller() async throws {
        let server = try await ServerFixture()
        try await server.createKey("prod-1", "ec-p256")
        var tokens: [Caller: String] = [
            .admin: server.adminToken,
            .officer: try await server.credential(.officer),
            .signer: try await server.credential(.signer, keys: ["prod-*"]),
            .otherSigner: try await server.credential(.signer, keys: ["lab-*"]),
            .auditor: try await server.credential(.auditor),
            .wrong: "cst_" + String(repeating: "A", count: 43),
        ]
        let revoked = try await server.api.credentials.create(
            role: .admin,
            keyPatterns: [],
            requester: .init(actor: "test")
        )
        let removal = try await server.request(
            "DELETE",
            "/v1/credentials/\(revoked.record.id)",
            token: server.adminToken
        )
        #expect(removal.status == 204)
        tokens[.revoked] = revoked.secret

        let auditBefore = try server.schema.auditHead()?.sequence ?? 0
        var refusals = 0
        var anonymous = 0
        for route in Self.routes {
            for caller in Caller.allCases {
                let token = tokens[caller]
                let result =
                    if let body = route.body {
                        try await server.request(route.method, route.path, token: token, json: body)
                    } else {
                        try await server.request(route.method, route.path, token: token)
                    }
                let label = "\(route.method) \(route.path) as \(caller): \(result.status) \(result.text.prefix(200))"
                if route.allowed.contains(caller) {
                    #expect(result.status != 401 && result.status != 403, "\(label)")
                } else {
                    let unauthenticated = caller == .none || caller == .wrong || caller == .revoked
                    #expect(result.status == (unauthenticated ? 401 : 403), "\(label)")
                    #expect(result.errorCode == (unauthenticated ? "unauthorized" : "forbidden"), "\(label)")
                    #expect(
                        (result.json["error"] as? [String: Any])?["requestId"] as? String
                            == result.headers["x-request-id"]
                    )
                    if unauthenticated { anonymous += 1 } else { refusals += 1 }
                }
            }
        }
        // Every refusal of a valid credential left an audit entry naming the route; refusals without one
        // are counted and summarised by route pattern (written here at once rather than after a minute).
        try await server.api.credentials.recordRefusals(server.api.anonymousRefusals.drain())
        let entries = try server.schema.environment.read { txn in
            try txn.records(AuditEntry.self, after: Key().appending(auditBefore), limit: .max, in: server.schema)
        }
        #expect(
            entries.filter { $0.event.action == "api.access" && $0.event.outcome.hasPrefix("denied") }.count == refusals
        )
        #expect(entries.contains { $0.event.object == "POST /v1/keys/prod-1/sign" && $0.event.actor != "anonymous" })
        let summaries = entries.filter { $0.event.action == "api.access.summary" }
        #expect(summaries.map { AnonymousRefusalTests.count(in: $0.event.outcome) }.reduce(0, +) == anonymous)
        #expect(summaries.contains { $0.event.object == "POST /v1/keys/{name}/sign" }, "\(summaries.map(\.event))")
    }

    @Test func metricsCountRequestsSignaturesAndPoolFigures() async throws {
        let server = try await ServerFixture()
        try await server.createKey("counted", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["counted"])
        let digest = Data(repeating: 1, count: 32).base64EncodedString()
        let batch = try await server.request(
            "POST",
            "/v1/keys/counted/sign",
            token: signer,
            json: ["items": Array(repeating: ["digest": digest], count: 5)]
        )
        #expect(batch.status == 200)
        let metrics = try await server.request("GET", "/metrics", token: server.adminToken)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let text = metrics.text
        #expect(text.contains(#"custos_signatures_total{key="counted",algorithm="ec-p256"} 5"#), "\(text)")
        // Metrics are per process and other tests' servers share them: only this key's count is exact.
        #expect(text.contains(#"custos_http_requests_total{route="/v1/keys/{name}/sign",method="POST",status="200"} "#))
        #expect(text.contains(#"custos_http_request_duration_seconds_bucket{route="/v1/keys/{name}/sign""#))
        #expect(text.contains("custos_sign_batch_size_bucket"))
        #expect(text.contains("custos_hsm_sessions_open 2"))
    }

    @Test func credentialsAreStoredOnlyAsHashes() async throws {
        let server = try await ServerFixture()
        let created = try await server.request(
            "POST",
            "/v1/credentials",
            token: server.adminToken,
            json: ["role": "officer"]
        )
        #expect(created.status == 201)
        let secret = try #require(created.json["token"] as? String)
        #expect(secret.hasPrefix("cst_"))
        let listed = try await server.request("GET", "/v1/credentials", token: server.adminToken)
        #expect(!listed.text.contains(secret))
        #expect(!listed.text.contains("token"))
        let data = try Data(contentsOf: URL(fileURLWithPath: server.directory + "/store/data.mdb"))
        #expect(data.range(of: Data(secret.utf8)) == nil)
        #expect(data.range(of: Data(secret.dropFirst(4).prefix(16).utf8)) == nil)
        let officer = try await server.request("GET", "/v1/keys", token: secret)
        #expect(officer.status == 200)
    }
}
