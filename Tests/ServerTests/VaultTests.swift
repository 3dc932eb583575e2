import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Testing

/// The secret vault over real HTTP: values encrypted by the HSM (AES-GCM under a namespace KEK that
/// never leaves the token), versions, archive and restore, deletion, and what a tampered store does.
@Suite(.serialized, .stopsServers) struct VaultTests {
    func createNamespace(_ server: ServerFixture, _ name: String, _ extra: [String: Any] = [:]) async throws {
        var body: [String: Any] = ["name": name]
        body.merge(extra) { $1 }
        let created = try await server.request("POST", "/v1/vault", token: server.adminToken, json: body)
        try #require(created.status == 201, "\(created.text)")
    }

    func put(_ server: ServerFixture, _ path: String, _ body: [String: Any]) async throws -> HTTPResult {
        try await server.request("PUT", path, token: server.adminToken, json: body)
    }

    @Test func secretsRoundTripWithVersionsArchiveRestoreAndDelete() async throws {
        let server = try await ServerFixture()
        try await createNamespace(server, "factory", ["keepVersions": 3])
        let base = "/v1/vault/factory/secrets/db/password"
        for number in 1...4 {
            let written = try await put(
                server,
                base,
                ["text": "hunter\(number)", "metadata": ["owner": "line \(number)"]]
            )
            #expect(written.status == 200 && written.json["version"] as? Int == number, "\(written.text)")
            #expect(written.json["value"] == nil && written.json["text"] == nil, "a write does not echo the value")
        }
        let latest = try await server.request("GET", base, token: server.adminToken)
        #expect(latest.json["text"] as? String == "hunter4" && latest.json["version"] as? Int == 4, "\(latest.text)")
        #expect(latest.json["kekVersion"] as? Int == 1)
        let second = try await server.request("GET", base + "?version=2", token: server.adminToken)
        #expect(second.json["text"] as? String == "hunter2", "\(second.text)")
        // Only three versions are kept: the first was destroyed by the fourth write.
        let first = try await server.request("GET", base + "?version=1", token: server.adminToken)
        #expect(first.status == 404 && first.text.contains("unknown_secret"), "\(first.text)")
        let versions = try await server.request(
            "GET",
            "/v1/vault/factory/versions/db/password",
            token: server.adminToken
        )
        let numbers = (versions.json["items"] as? [[String: Any]] ?? []).compactMap { $0["version"] as? Int }
        #expect(numbers == [2, 3, 4], "\(versions.text)")

        // Binary values go as base64 and come back byte for byte.
        let bytes = Data((0...255).map { UInt8($0) })
        let binary = try await put(
            server,
            "/v1/vault/factory/secrets/devices/42/psk",
            ["value": bytes.base64EncodedString()]
        )
        #expect(binary.status == 200 && binary.json["size"] as? Int == 256, "\(binary.text)")
        let read = try await server.request("GET", "/v1/vault/factory/secrets/devices/42/psk", token: server.adminToken)
        #expect(Data(base64Encoded: read.json["value"] as? String ?? "") == bytes)
        #expect(read.json["text"] == nil, "not UTF-8, so no text")

        // Listing: newest version per path, by prefix.
        let listed = try await server.request("GET", "/v1/vault/factory/secrets?prefix=db/", token: server.adminToken)
        let paths = (listed.json["items"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(paths == ["db/password"], "\(listed.text)")

        // Archive: hidden and unreadable, kept; restore brings it back.
        let archived = try await server.request(
            "POST",
            "/v1/vault/factory/archive/db/password",
            token: server.adminToken,
            json: [String: String]()
        )
        #expect(archived.status == 200 && archived.json["archived"] as? Bool == true, "\(archived.text)")
        let hidden = try await server.request("GET", base, token: server.adminToken)
        #expect(hidden.status == 409 && hidden.text.contains("archived"), "\(hidden.text)")
        let writeArchived = try await put(server, base, ["text": "nope"])
        #expect(writeArchived.status == 409, "\(writeArchived.text)")
        let all = try await server.request("GET", "/v1/vault/factory/secrets", token: server.adminToken)
        #expect(!all.text.contains("db/password") && all.text.contains("devices/42/psk"), "\(all.text)")
        let withArchived = try await server.request(
            "GET",
            "/v1/vault/factory/secrets?archived=true",
            token: server.adminToken
        )
        #expect(withArchived.text.contains("db/password"), "\(withArchived.text)")
        let restored = try await server.request(
            "POST",
            "/v1/vault/factory/restore/db/password",
            token: server.adminToken,
            json: [String: String]()
        )
        #expect(restored.status == 200 && restored.json["archived"] as? Bool == false)
        #expect(try await server.request("GET", base, token: server.adminToken).json["text"] as? String == "hunter4")

        // Metadata of every version.
        let tagged = try await server.request(
            "PUT",
            "/v1/vault/factory/metadata/db/password",
            token: server.adminToken,
            json: ["metadata": ["rotation": "quarterly"]]
        )
        #expect((tagged.json["metadata"] as? [String: String]) == ["rotation": "quarterly"], "\(tagged.text)")

        // Delete destroys every version's ciphertext.
        let deleted = try await server.request("DELETE", base, token: server.adminToken)
        #expect(deleted.status == 200 && deleted.json["destroyedVersions"] as? Int == 3, "\(deleted.text)")
        #expect(try await server.request("GET", base, token: server.adminToken).status == 404)
        let left = try await server.api.store.read { reader in
            try reader.records(VaultEntryRecord.self, after: nil, limit: .max).filter {
                $0.path.contains("db/password")
            }
        }
        #expect(left.isEmpty)

        // Every read and write is in the audit log.
        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        for action in [
            "vault.namespace.create", "vault.secret.write", "vault.secret.read", "vault.secret.archive",
            "vault.secret.restore", "vault.secret.delete",
        ] {
            #expect(audit.text.contains(action), "\(action)")
        }
    }

    @Test func theStoreHoldsNoPlaintextAndATamperedEntryFailsWithAnIntegrityError() async throws {
        let server = try await ServerFixture()
        try await createNamespace(server, "plant")
        let markers = (0..<3).map { "MARKER-\($0)-" + UUID().uuidString }
        for (index, marker) in markers.enumerated() {
            let written = try await put(server, "/v1/vault/plant/secrets/s\(index)", ["text": marker])
            try #require(written.status == 200, "\(written.text)")
        }
        _ = try await put(server, "/v1/vault/plant/secrets/s0", ["text": markers[0] + "-v2"])
        // The data file holds none of the values.
        let data = try Data(contentsOf: URL(fileURLWithPath: server.directory + "/store/data.mdb"))
        for marker in markers { #expect(data.range(of: Data(marker.utf8)) == nil, "\(marker) is in the store") }
        // The KEK is on the token, sensitive and never extractable; its value cannot be read.
        let protection = try await server.pool.withSession { context in
            let session = context.session
            let found = try session.findObjects([.objectClass(.secretKey), .label("custos-kek-plant-v1")], limit: 2)
            guard found.count == 1 else { throw TestFailure("\(found.count) KEKs") }
            let valueReadable = (try? session.attribute(.value, of: found[0])) != nil
            return (
                try session.boolAttribute(.sensitive, of: found[0]),
                try session.boolAttribute(.extractable, of: found[0]),
                valueReadable
            )
        }
        #expect(protection.0 && !protection.1 && !protection.2, "\(protection)")

        // Tampering with what is stored: the read fails with integrity_error, never other bytes.
        let store = server.api.store
        func entry(_ path: String, _ version: UInt64) async throws -> VaultEntryRecord {
            let key = Key().appending("plant").appending("secrets/" + path).appending(version)
            return try #require(try await store.read { try $0.record(VaultEntryRecord.self, key: key) })
        }
        let original = try await entry("s1", 1)
        func expectIntegrityError(_ change: (inout VaultEntryRecord) -> Void, _ what: String) async throws {
            var changed = original
            change(&changed)
            let tampered = changed
            try await store.write { try $0.save(tampered) }
            let read = try await server.request("GET", "/v1/vault/plant/secrets/s1", token: server.adminToken)
            #expect(read.status == 500 && read.text.contains("integrity_error"), "\(what): \(read.text)")
            #expect(!read.text.contains("MARKER"), "\(what)")
            try await store.write { try $0.save(original) }
        }
        try await expectIntegrityError({ $0.ciphertext[0] ^= 1 }, "ciphertext")
        try await expectIntegrityError({ $0.iv[3] ^= 0x80 }, "IV")
        try await expectIntegrityError({ $0.tag[15] ^= 1 }, "tag")
        try await expectIntegrityError({ $0.iv.removeLast() }, "IV length")
        // Another entry's ciphertext, IV and tag moved here: the associated data (path, version) differs.
        let other = try await entry("s2", 1)
        try await expectIntegrityError(
            { record in (record.ciphertext, record.iv, record.tag) = (other.ciphertext, other.iv, other.tag) },
            "moved from another path"
        )
        let older = try await entry("s0", 1)
        let newer = try await entry("s0", 2)
        var swapped = newer
        (swapped.ciphertext, swapped.iv, swapped.tag) = (older.ciphertext, older.iv, older.tag)
        let rolledBack = swapped
        try await store.write { try $0.save(rolledBack) }
        let rollback = try await server.request("GET", "/v1/vault/plant/secrets/s0", token: server.adminToken)
        #expect(
            rollback.status == 500 && rollback.text.contains("integrity_error"),
            "version rollback: \(rollback.text)"
        )
        // Untouched, it reads.
        let fine = try await server.request("GET", "/v1/vault/plant/secrets/s1", token: server.adminToken)
        #expect(fine.json["text"] as? String == markers[1], "\(fine.text)")
    }

    @Test func badVaultRequestsGetClearErrors() async throws {
        let server = try await ServerFixture()
        try await createNamespace(server, "small", ["maxSecretBytes": 16])
        let cases: [(String, String, [String: Any]?, Int, String)] = [
            ("POST", "/v1/vault", ["name": "small"], 409, "namespace_exists"),
            ("POST", "/v1/vault", ["name": "Bad_Name"], 400, "invalid_input"),
            ("POST", "/v1/vault", ["name": "x", "keepVersions": 0], 400, "keepVersions"),
            ("PUT", "/v1/vault/small/secrets/a", ["text": String(repeating: "x", count: 17)], 413, "too_large"),
            ("PUT", "/v1/vault/small/secrets/a", ["text": "x", "value": "eA=="], 400, "not both"),
            ("PUT", "/v1/vault/small/secrets/a", ["value": "not base64!"], 400, "not valid base64"),
            ("PUT", "/v1/vault/small/secrets/a", [String: Any](), 400, "invalid_input"),
            ("PUT", "/v1/vault/small/secrets/a/%2E%2E/b", ["text": "x"], 400, "secret path"),
            ("PUT", "/v1/vault/small/secrets/a%20b", ["text": "x"], 400, "secret path"),
            ("PUT", "/v1/vault/missing/secrets/a", ["text": "x"], 404, "unknown_namespace"),
            ("GET", "/v1/vault/small/secrets/nothing", nil, 404, "unknown_secret"),
            ("GET", "/v1/vault/small/secrets/a?version=zero", nil, 400, "version must be"),
        ]
        for (method, path, body, status, text) in cases {
            let answer =
                if let body {
                    try await server.request(method, path, token: server.adminToken, json: body)
                } else {
                    try await server.request(method, path, token: server.adminToken)
                }
            #expect(
                answer.status == status && answer.text.contains(text),
                "\(method) \(path): \(answer.status) \(answer.text)"
            )
        }
        let fits = try await put(server, "/v1/vault/small/secrets/a", ["text": String(repeating: "x", count: 16)])
        #expect(fits.status == 200, "\(fits.text)")
        let unknownVersion = try await server.request(
            "GET",
            "/v1/vault/small/secrets/a?version=9",
            token: server.adminToken
        )
        #expect(unknownVersion.status == 404 && unknownVersion.text.contains("no version 9"), "\(unknownVersion.text)")
        let auditor = try await server.credential(.auditor)
        #expect(try await server.request("GET", "/v1/vault/small/secrets", token: auditor).status == 200)
        #expect(try await server.request("GET", "/v1/vault/small/secrets/a", token: auditor).status == 403)
    }

    @Test func vaultCredentialsReachOnlyTheirNamespaces() async throws {
        let server = try await ServerFixture()
        for name in ["line-1", "line-2", "hr"] { try await createNamespace(server, name) }
        let created = try await server.request(
            "POST",
            "/v1/credentials",
            token: server.adminToken,
            json: ["role": "vault", "namespaces": ["line-*"]]
        )
        try #require(created.status == 201, "\(created.text)")
        #expect(created.json["namespaces"] as? [String] == ["line-*"], "\(created.text)")
        let device = try #require(created.json["token"] as? String)
        for name in ["line-1", "line-2"] {
            let path = "/v1/vault/\(name)/secrets/wifi"
            let written = try await server.request("PUT", path, token: device, json: ["text": "pw-\(name)"])
            #expect(written.status == 200, "\(written.text)")
            let read = try await server.request("GET", path, token: device)
            #expect(read.json["text"] as? String == "pw-\(name)", "\(read.text)")
        }
        let other = try await server.request("PUT", "/v1/vault/hr/secrets/wifi", token: device, json: ["text": "x"])
        #expect(other.status == 403 && other.text.contains("may not use vault namespace"), "\(other.text)")
        #expect(try await server.request("GET", "/v1/vault/hr/secrets", token: device).status == 403)
        let listed = try await server.request("GET", "/v1/vault", token: device)
        let names = (listed.json["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["line-1", "line-2"], "\(listed.text)")
        // A vault credential neither creates namespaces nor reaches the rest of the API.
        let namespace = try await server.request("POST", "/v1/vault", token: device, json: ["name": "line-3"])
        #expect(namespace.status == 403, "\(namespace.text)")
        #expect(try await server.request("GET", "/v1/keys", token: device).status == 403)
        // Signers have keys, not secrets; patterns belong to the roles that use them.
        let signer = try await server.credential(.signer, keys: ["*"])
        #expect(try await server.request("GET", "/v1/vault/line-1/secrets/wifi", token: signer).status == 403)
        let badCredentials: [([String: Any], String)] = [
            (["role": "vault"], "needs namespaces"),
            (["role": "officer", "namespaces": ["line-*"]], "vault role only"),
        ]
        for (body, message) in badCredentials {
            let refused = try await server.request("POST", "/v1/credentials", token: server.adminToken, json: body)
            #expect(refused.status == 400 && refused.text.contains(message), "\(refused.text)")
        }
    }

    @Test func concurrentWritersOfOnePathEachGetAVersion() async throws {
        let server = try await ServerFixture()
        try await createNamespace(server, "busy", ["keepVersions": 5])
        let versions = try await withThrowingTaskGroup(of: Int?.self) { group in
            for index in 0..<24 {
                group.addTask {
                    let written = try await put(server, "/v1/vault/busy/secrets/counter", ["text": "w\(index)"])
                    return written.status == 200 ? written.json["version"] as? Int : nil
                }
            }
            var all: [Int?] = []
            for try await version in group { all.append(version) }
            return all
        }
        // Every writer got its own version; none failed; only the last five are kept.
        #expect(versions.compactMap { $0 }.sorted() == Array(1...24), "\(versions)")
        let kept = try await server.request("GET", "/v1/vault/busy/versions/counter", token: server.adminToken)
        let numbers = (kept.json["items"] as? [[String: Any]])?.compactMap { $0["version"] as? Int }
        #expect(numbers == Array(20...24), "\(kept.text)")
    }
}
