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

/// Roles and tenants on the CA routes.
extension CARouteTests {
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
}
