import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// KEK rotation over real HTTP: the background re-encryption runs while clients write, read, delete
/// and change metadata, and afterwards every value, version and key is intact under the new KEK and
/// the old KEK is gone from the token.
@Suite(.serialized, .stopsServers) struct VaultRotationTests {
    func request(_ server: ServerFixture, _ method: String, _ path: String, _ body: [String: Any]? = nil)
        async throws -> HTTPResult
    {
        // A write that raced the end of a rotation is refused with 409 and goes through on retry.
        for _ in 0..<5 {
            let answer =
                if let body {
                    try await server.request(method, path, token: server.adminToken, json: body)
                } else {
                    try await server.request(method, path, token: server.adminToken)
                }
            if !answer.text.contains("rotation_in_progress") { return answer }
        }
        throw TestFailure("\(method) \(path) kept meeting rotation_in_progress")
    }

    @Test func rotationUnderConcurrentReadsAndWritesLosesNothing() async throws {
        let server = try await ServerFixture()
        let created = try await request(
            server,
            "POST",
            "/v1/vault",
            ["name": "rot", "keepVersions": 100, "allowPlaintextExport": true]
        )
        try #require(created.status == 201, "\(created.text)")
        let count = 240
        for index in 0..<count {
            let written = try await request(server, "PUT", "/v1/vault/rot/secrets/s\(index)", ["text": "v1-\(index)"])
            try #require(written.status == 200, "\(written.text)")
        }
        var keyValues: [String: String] = [:]
        for index in 0..<4 {
            _ = try await request(server, "POST", "/v1/vault/rot/keys/k\(index)", ["type": "aes-256"])
            let exported = try await request(server, "POST", "/v1/vault/rot/keys/k\(index)/export", ["plaintext": true])
            keyValues["k\(index)"] = try #require(exported.json["value"] as? String)
        }

        let rotated = try await request(server, "POST", "/v1/vault/rot/rotate", [:])
        try #require(rotated.status == 202, "\(rotated.text)")
        #expect(rotated.json["currentKEKVersion"] as? Int == 2, "\(rotated.text)")
        #expect(((rotated.json["rotation"] as? [String: Any])?["retiring"] as? [Int]) == [1], "\(rotated.text)")
        let again = try await server.request("POST", "/v1/vault/rot/rotate", token: server.adminToken, json: [:])
        let stillRunning = try await request(server, "GET", "/v1/vault/rot")
        if stillRunning.json["rotation"] != nil {
            #expect(again.status == 409 && again.text.contains("rotation_in_progress"), "\(again.text)")
        }

        // While it runs: new versions, reads of old and new values, a delete and a metadata change.
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var problems: [String] = []
                for index in 0..<40 {
                    let written = try await request(
                        server,
                        "PUT",
                        "/v1/vault/rot/secrets/s\(index)",
                        ["text": "v2-\(index)"]
                    )
                    if written.status != 200 { problems.append("write s\(index): \(written.text)") }
                }
                return problems
            }
            group.addTask {
                var problems: [String] = []
                for index in stride(from: count - 1, through: 40, by: -1) where index != 100 {
                    let read = try await request(server, "GET", "/v1/vault/rot/secrets/s\(index)")
                    if read.json["text"] as? String != "v1-\(index)" { problems.append("read s\(index): \(read.text)") }
                }
                return problems
            }
            group.addTask {
                var problems: [String] = []
                if try await request(server, "DELETE", "/v1/vault/rot/secrets/s100").status != 200 {
                    problems.append("delete")
                }
                let metadata = try await request(
                    server,
                    "PUT",
                    "/v1/vault/rot/metadata/s101",
                    ["metadata": ["owner": "qa"]]
                )
                if metadata.status != 200 { problems.append("metadata: \(metadata.text)") }
                return problems
            }
            var all: [String] = []
            for try await problems in group { all += problems }
            return all
        }
        #expect(failures.isEmpty, "\(failures)")

        await server.api.vault.waitForRotations()
        let finished = try await request(server, "GET", "/v1/vault/rot")
        #expect(finished.json["kekVersions"] as? [Int] == [2], "\(finished.text)")
        #expect(finished.json["rotation"] == nil, "\(finished.text)")

        // Every value, old versions included, reads back; the deleted secret stays deleted.
        for index in 0..<count where index != 100 {
            let latest = try await request(server, "GET", "/v1/vault/rot/secrets/s\(index)")
            #expect(latest.json["text"] as? String == (index < 40 ? "v2-\(index)" : "v1-\(index)"), "\(latest.text)")
            if index < 40 {
                let first = try await request(server, "GET", "/v1/vault/rot/secrets/s\(index)?version=1")
                #expect(first.json["text"] as? String == "v1-\(index)", "\(first.text)")
            }
        }
        #expect(try await request(server, "GET", "/v1/vault/rot/secrets/s100").status == 404)
        let tagged = try await request(server, "GET", "/v1/vault/rot/secrets/s101")
        #expect((tagged.json["metadata"] as? [String: String])?["owner"] == "qa", "\(tagged.text)")
        for (name, value) in keyValues {
            let exported = try await request(server, "POST", "/v1/vault/rot/keys/\(name)/export", ["plaintext": true])
            #expect(exported.json["value"] as? String == value, "\(name): \(exported.text)")
            #expect(
                try await request(server, "GET", "/v1/vault/rot/keys/\(name)").json["kekVersion"] as? Int == 2
            )
        }
        // Every stored entry names KEK v2, and KEK v1 is gone from the token.
        let entries = try await server.api.store.read { try $0.records(VaultEntryRecord.self, after: nil, limit: .max) }
        #expect(entries.count == count + 40 - 1 + keyValues.count)
        #expect(entries.allSatisfy { $0.kekVersion == 2 })
        let leftOnToken = try await server.pool.withSession { context in
            try context.session.findObjects([.label("custos-kek-rot-v1")], limit: 2).count
        }
        #expect(leftOnToken == 0)
        let audit = try await server.api.store.read { try $0.records(AuditEntry.self, after: nil, limit: .max) }
        let rotation = audit.filter { $0.event.action == "vault.kek.rotate" }.map(\.event.outcome)
        #expect(rotation.count == 2 && rotation.last?.hasSuffix("KEK v1 destroyed") == true, "\(rotation)")
    }
}
