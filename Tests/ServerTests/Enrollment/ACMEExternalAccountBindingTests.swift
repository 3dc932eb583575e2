import Codecs
import Crypto
import CustosTestSupport
import Foundation
import Testing

/// External Account Binding (RFC 8555 section 7.3.4) with bindings made in the test: keys made over the
/// API, required by the profile, refused when wrong, unknown, misdirected or used, kept only wrapped.
@Suite(.serialized) struct ACMEExternalAccountBindingTests {
    @Test func externalAccountBindingBindsOneAccountPerKey() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("teams", ["externalAccountRequired": true])
        let made = try await acme.est.api(
            "POST",
            "/v1/enrollment/profiles/teams/acme/external-keys",
            ["label": "platform"]
        )
        #expect(made.status == 201, "\(made.text)")
        let kid = try #require(made.json["id"] as? String)
        let hmacKey = try #require(made.json["hmacKey"] as? String)
        #expect(Base64URL.decode(hmacKey)?.count == 32)
        let directory = try await acme.est.curl([acme.directoryURL("teams")])
        #expect((directory.json["meta"] as? [String: Any])?["externalAccountRequired"] as? Bool == true)

        let client = ACMETestClient(acme, profile: "teams")
        let plain = try await client.register()
        #expect(plain.status == 403 && plain.problem == "externalAccountRequired", "\(plain.text)")
        let newAccount = "\(client.base)/new-account"
        let forged = try await client.post(
            newAccount,
            [
                "termsOfServiceAgreed": true,
                "externalAccountBinding": try client.binding(
                    kid: kid,
                    hmacKey: Base64URL.encode(Array(repeating: 7, count: 32))
                ),
            ],
            useKey: true
        )
        #expect(forged.problem == "unauthorized", "\(forged.text)")
        let unknown = try await client.post(
            newAccount,
            ["externalAccountBinding": try client.binding(kid: "nope", hmacKey: hmacKey)],
            useKey: true
        )
        #expect(unknown.problem == "unauthorized", "\(unknown.text)")
        let misdirected = try await client.post(
            newAccount,
            ["externalAccountBinding": try client.binding(kid: kid, hmacKey: hmacKey, url: "\(client.base)/new-order")],
            useKey: true
        )
        #expect(misdirected.problem == "malformed", "\(misdirected.text)")
        let bound = try await client.post(
            newAccount,
            ["termsOfServiceAgreed": true, "externalAccountBinding": try client.binding(kid: kid, hmacKey: hmacKey)],
            useKey: true
        )
        #expect(bound.status == 201, "\(bound.text)")
        let keys = try await acme.est.api("GET", "/v1/enrollment/profiles/teams/acme/external-keys")
        let listed = (keys.json["keys"] as? [[String: Any]])?.first
        #expect(
            listed?["id"] as? String == kid && listed?["hmacKey"] == nil && listed?["account"] != nil,
            "\(keys.text)"
        )
        // A second account with the same key is refused.
        let second = ACMETestClient(acme, profile: "teams")
        let again = try await second.post(
            newAccount,
            ["externalAccountBinding": try second.binding(kid: kid, hmacKey: hmacKey)],
            useKey: true
        )
        #expect(again.problem == "unauthorized", "\(again.text)")
        // The one rule: the key is in the store only wrapped.
        let store = try Data(contentsOf: URL(fileURLWithPath: acme.est.server.directory + "/store/data.mdb"))
        #expect(store.range(of: Data(Base64URL.decode(hmacKey)!)) == nil && store.range(of: Data(hmacKey.utf8)) == nil)
        #expect(try await acme.audit("acme.external-key.create").count == 1)
    }
}
