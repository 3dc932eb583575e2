import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Vault keys over real HTTP against SoftHSM: generated in the HSM and stored only wrapped under the
/// KEK; exported wrapped under an RSA key that openssl unwraps, or under an AES transport key that
/// Python's `cryptography` unwraps; imported wrapped (RSA-OAEP, AES key wrap) or in plaintext where the
/// policy allows it; and a moved or changed wrapped key fails with an integrity error.
@Suite(.serialized, .stopsServers) struct VaultKeyTests {
    func post(_ server: ServerFixture, _ path: String, _ body: [String: Any]) async throws -> HTTPResult {
        try await server.request("POST", path, token: server.adminToken, json: body)
    }

    func exportPlaintext(_ server: ServerFixture, _ namespace: String, _ name: String) async throws -> [UInt8] {
        let exported = try await post(server, "/v1/vault/\(namespace)/keys/\(name)/export", ["plaintext": true])
        try #require(exported.status == 200, "\(exported.text)")
        return Array(try bytes(exported, "value"))
    }

    func bytes(_ result: HTTPResult, _ field: String) throws -> Data {
        guard let text = result.json[field] as? String, let data = Data(base64Encoded: text) else {
            throw TestFailure("no base64 \(field) in \(result.text)")
        }
        return data
    }

    func openssl(_ arguments: [String], input: Data? = nil) async throws -> Data {
        let directory = try makeTemporaryDirectory("custos-vk-out")
        let result = try await runClient("openssl", arguments + ["-out", "\(directory)/out"], input: input)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments[0]): \(result.stderr)") }
        return try Data(contentsOf: URL(fileURLWithPath: "\(directory)/out"))
    }

    @Test func keysLeaveWrappedAndOpenSSLUnwrapsWhatCustosReturnsInPlaintext() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-vk")
        let created = try await post(
            server,
            "/v1/vault",
            ["name": "factory", "allowPlaintextExport": true, "allowPlaintextImport": true]
        )
        try #require(created.status == 201, "\(created.text)")
        for (name, type) in [("k1", "aes-256"), ("mac", "hmac-sha256"), ("device", "secret-192"), ("t", "aes-128")] {
            let generated = try await post(server, "/v1/vault/factory/keys/\(name)", ["type": type])
            #expect(generated.status == 201 && generated.json["origin"] as? String == "generated", "\(generated.text)")
        }
        let listed = try await server.request("GET", "/v1/vault/factory/keys", token: server.adminToken)
        let names = (listed.json["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["device", "k1", "mac", "t"], "\(listed.text)")
        let value = try await exportPlaintext(server, "factory", "k1")
        #expect(value.count == 32)
        let device = try await exportPlaintext(server, "factory", "device")
        #expect(device.count == 24, "\(device)")
        #expect(try await exportPlaintext(server, "factory", "mac").count == 32)

        // Wrapped under the test's RSA key with OAEP: openssl unwraps the same 32 bytes.
        let keyFile = "\(directory)/recipient.key"
        _ = try runCommand(
            "openssl",
            ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyFile]
        )
        let publicPEM = String(decoding: try await openssl(["pkey", "-in", keyFile, "-pubout"]), as: UTF8.self)
        let wrapped = try await post(
            server,
            "/v1/vault/factory/keys/k1/export",
            ["rsaPublicKey": publicPEM, "oaepHash": "sha1"]
        )
        try #require(
            wrapped.status == 200 && wrapped.json["mechanism"] as? String == "CKM_RSA_PKCS_OAEP",
            "\(wrapped.text)"
        )
        let wrappedBytes = try bytes(wrapped, "wrapped")
        #expect(wrappedBytes.count == 256)
        let unwrapped = try await openssl(
            [
                "pkeyutl", "-decrypt", "-inkey", keyFile, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
                "rsa_oaep_md:sha1",
            ],
            input: wrappedBytes
        )
        #expect(Array(unwrapped) == value, "openssl's unwrap differs from the plaintext export")
        // SHA-256 OAEP: SoftHSM 2.6 offers only SHA-1 and says so; a token that has it wraps correctly.
        let sha256 = try await post(server, "/v1/vault/factory/keys/k1/export", ["rsaPublicKey": publicPEM])
        if sha256.status == 200 {
            let bytes = try bytes(sha256, "wrapped")
            let opened = try await openssl(
                [
                    "pkeyutl", "-decrypt", "-inkey", keyFile, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt",
                    "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256",
                ],
                input: bytes
            )
            #expect(Array(opened) == value)
        } else {
            #expect(sha256.status == 400 && sha256.text.contains("OAEP-sha256"), "\(sha256.text)")
        }

        // Under an AES transport key of the namespace: Python's RFC 5649 unwrap gives the same bytes.
        let transportValue = try await exportPlaintext(server, "factory", "t")
        let underAES = try await post(server, "/v1/vault/factory/keys/k1/export", ["transportKey": "t"])
        try #require(underAES.status == 200, "\(underAES.text)")
        let aesWrapped = try #require(underAES.json["wrapped"] as? String)
        let python = try await runClient(
            "python3",
            [
                "-c",
                """
                import base64, sys
                from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
                print(aes_key_unwrap_with_padding(bytes.fromhex(sys.argv[1]), base64.b64decode(sys.argv[2])).hex())
                """,
                transportValue.map { String(format: "%02x", $0) }.joined(), aesWrapped,
            ]
        )
        #expect(
            python.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == value.map { String(format: "%02x", $0) }.joined(),
            "\(python.stdout) \(python.stderr)"
        )
        // …and imported back under the same transport key as a new key with the same value.
        let reimported = try await post(
            server,
            "/v1/vault/factory/keys/k1-copy",
            ["type": "aes-256", "wrapped": aesWrapped, "transport": "t"]
        )
        #expect(
            reimported.status == 201 && reimported.json["origin"] as? String == "imported-wrapped",
            "\(reimported.text)"
        )
        #expect(try await exportPlaintext(server, "factory", "k1-copy") == value)

        // A factory-set key wrapped under the namespace's RSA transport key (openssl does the wrapping).
        let transport = try await post(server, "/v1/vault/factory/transport-key", [:])
        try #require(transport.status == 201, "\(transport.text)")
        let transportPEM = try #require(transport.json["publicKey"] as? String)
        try transportPEM.write(toFile: "\(directory)/transport.pem", atomically: true, encoding: .utf8)
        let fetched = try await server.request("GET", "/v1/vault/factory/transport-key", token: server.adminToken)
        #expect(fetched.json["publicKey"] as? String == transportPEM)
        let factoryKey = (0..<16).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
        let sealed = try await openssl(
            [
                "pkeyutl", "-encrypt", "-pubin", "-inkey", "\(directory)/transport.pem", "-pkeyopt",
                "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1",
            ],
            input: Data(factoryKey)
        )
        let imported = try await post(
            server,
            "/v1/vault/factory/keys/line-7",
            ["type": "aes-128", "wrapped": sealed.base64EncodedString(), "transport": "rsa", "oaepHash": "sha1"]
        )
        #expect(imported.status == 201, "\(imported.text)")
        #expect(try await exportPlaintext(server, "factory", "line-7") == factoryKey)
        // The same bytes declared as AES-256 do not fit: refused, nothing stored.
        let wrongType = try await post(
            server,
            "/v1/vault/factory/keys/line-8",
            ["type": "aes-256", "wrapped": sealed.base64EncodedString(), "transport": "rsa", "oaepHash": "sha1"]
        )
        #expect(wrongType.status == 400 && wrongType.text.contains("does not unwrap to a aes-256"), "\(wrongType.text)")
        #expect(
            try await server.request("GET", "/v1/vault/factory/keys/line-8", token: server.adminToken).status == 404
        )

        // Plaintext import where the policy allows it.
        let plainValue = (0..<32).map { UInt8(truncatingIfNeeded: 255 - $0 * 3) }
        let plain = try await post(
            server,
            "/v1/vault/factory/keys/hmac-in",
            ["type": "hmac-sha256", "value": Data(plainValue).base64EncodedString()]
        )
        #expect(plain.status == 201 && plain.json["origin"] as? String == "imported-plaintext", "\(plain.text)")
        #expect(try await exportPlaintext(server, "factory", "hmac-in") == plainValue)

        // The store holds none of the key values, and the audit log names each export and import.
        let data = try Data(contentsOf: URL(fileURLWithPath: server.directory + "/store/data.mdb"))
        for secret in [value, transportValue, factoryKey, plainValue] {
            #expect(data.range(of: Data(secret)) == nil, "a key value is in the store")
        }
        let audit = try await server.request("GET", "/v1/audit?limit=200", token: server.adminToken)
        #expect(audit.text.contains("wrapped under RSA-OAEP-sha1"), "\(audit.text.prefix(400))")
        #expect(audit.text.contains("in plaintext (the namespace allows it)"))
        #expect(audit.text.contains("imported in plaintext"))
    }

    @Test func policiesBadInputAndTamperingGetClearErrors() async throws {
        let server = try await ServerFixture()
        try #require(try await post(server, "/v1/vault", ["name": "strict"]).status == 201)
        try #require(try await post(server, "/v1/vault/strict/keys/k", ["type": "aes-256"]).status == 201)
        try #require(try await post(server, "/v1/vault/strict/keys/mac", ["type": "hmac-sha512"]).status == 201)
        let weakKey = try runCommand(
            "sh",
            ["-c", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 | openssl pkey -pubout"]
        ).stdout
        let cases: [(String, [String: Any], Int, String)] = [
            ("keys/k/export", ["plaintext": true], 403, "does not allow plaintext export"),
            ("keys/p", ["type": "aes-128", "value": Data(count: 16).base64EncodedString()], 403, "plaintext import"),
            ("keys/k", ["type": "aes-256"], 409, "key_exists"),
            ("keys/x", ["type": "aes-512"], 400, "unknown key type"),
            ("keys/x", ["type": "secret-7"], 400, "unknown key type"),
            ("keys/x", ["type": "secret-96"], 400, "multiple of 64"),
            ("keys/x", ["type": "aes-128", "value": "AA==", "wrapped": "AA=="], 400, "not both"),
            ("keys/x", ["type": "aes-128", "wrapped": "AAAA"], 400, "wrapped needs transport"),
            ("keys/x", ["type": "aes-128", "wrapped": "AAAA", "transport": "rsa"], 400, "no RSA transport key"),
            (
                "keys/x", ["type": "aes-128", "wrapped": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "transport": "k"], 400,
                "does not unwrap"
            ),
            ("keys/x", ["type": "aes-128", "wrapped": "AAAA", "transport": "missing"], 404, "unknown_key"),
            ("keys/x", ["type": "aes-128", "wrapped": "AAAA", "transport": "mac"], 400, "only AES keys wrap"),
            ("keys/x", ["type": "aes-128", "wrapped": "AAAA", "transport": "rsa", "oaepHash": "md5"], 400, "oaepHash"),
            ("keys/a%20b", ["type": "aes-128"], 400, "key name"),
            ("keys/k/export", [String: Any](), 400, "exactly one"),
            (
                "keys/k/export", ["rsaPublicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"], 400,
                "PEM RSA"
            ),
            ("keys/k/export", ["rsaPublicKey": weakKey, "oaepHash": "sha1"], 400, "2048 bits"),
            ("keys/k/export", ["transportKey": "mac"], 400, "only AES keys wrap"),
            ("keys/nothing/export", ["transportKey": "k"], 404, "unknown_key"),
        ]
        for (path, body, status, text) in cases {
            let answer = try await post(server, "/v1/vault/strict/\(path)", body)
            #expect(
                answer.status == status && answer.text.contains(text),
                "\(path) \(body): \(answer.status) \(answer.text)"
            )
        }
        // A vault credential for another namespace reaches none of these keys.
        let other = try await post(server, "/v1/credentials", ["role": "vault", "namespaces": ["other"]])
        let token = try #require(other.json["token"] as? String)
        let refused = try await server.request(
            "POST",
            "/v1/vault/strict/keys/k/export",
            token: token,
            json: ["transportKey": "k"]
        )
        #expect(refused.status == 403, "\(refused.text)")

        // A wrapped key changed in the store, or moved to another name, fails with integrity_error.
        let store = server.api.store
        let path = { @Sendable (name: String) in
            Key().appending("strict").appending("keys/" + name).appending(UInt64(1))
        }
        let original = try #require(try await store.read { try $0.record(VaultEntryRecord.self, key: path("k")) })
        var changed = original
        changed.ciphertext[5] ^= 1
        let tampered = changed
        try await store.write { try $0.save(tampered) }
        let broken = try await post(server, "/v1/vault/strict/keys/k/export", ["transportKey": "k"])
        #expect(broken.status == 500 && broken.text.contains("integrity_error"), "\(broken.text)")
        try await store.write { try $0.save(original) }
        #expect(try await post(server, "/v1/vault/strict/keys/k/export", ["transportKey": "k"]).status == 200)
        let macRecord = try #require(try await store.read { try $0.record(VaultEntryRecord.self, key: path("mac")) })
        var moved = original
        moved.path = "keys/mac"
        moved.keyType = macRecord.keyType
        let movedRecord = moved
        try await store.write { try $0.save(movedRecord) }
        let swapped = try await post(server, "/v1/vault/strict/keys/mac/export", ["transportKey": "k"])
        #expect(swapped.status == 500 && swapped.text.contains("integrity_error"), "\(swapped.text)")

        // Delete removes the wrapped value.
        let deleted = try await server.request("DELETE", "/v1/vault/strict/keys/k", token: server.adminToken)
        #expect(deleted.status == 204)
        #expect(try await store.read { try $0.record(VaultEntryRecord.self, key: path("k")) } == nil)
        #expect(try await server.request("GET", "/v1/vault/strict/keys/k", token: server.adminToken).status == 404)
    }
}
