import CustosTestSupport
import Foundation
import MetadataStore
import Testing
import Vault

/// The vault over a real token and store, without HTTP: values encrypted in the HSM under a
/// namespace's KEK and never stored in the clear, versions kept as the policy says, a changed
/// ciphertext refused, and a KEK rotation that re-encrypts every entry.
@Suite struct VaultTests {
    static func vault() async throws -> (DomainFixture, Vault) {
        let fixture = try await DomainFixture(prefix: "vault")
        let vault = Vault(keyStore: fixture.signing.keyStore, store: fixture.store)
        _ = try await vault.createNamespace("app", policy: .init(keepVersions: 2), requester: DomainFixture.requester)
        return (fixture, vault)
    }

    @Test func valuesAreEncryptedInTheStoreAndReadBackByVersion() async throws {
        let (fixture, vault) = try await Self.vault()
        let values = (1...3).map { Array("database password number \($0) 5f0b".utf8) }
        for value in values {
            _ = try await vault.putSecret(
                namespace: "app",
                path: "db/password",
                value: value,
                metadata: ["owner": "ops"],
                requester: DomainFixture.requester
            )
        }
        let newest = try await vault.secret(
            namespace: "app",
            path: "db/password",
            version: nil,
            requester: DomainFixture.requester
        )
        #expect(newest.value == values[2] && newest.info.version == 3 && newest.info.metadata == ["owner": "ops"])
        let second = try await vault.secret(
            namespace: "app",
            path: "db/password",
            version: 2,
            requester: DomainFixture.requester
        )
        #expect(second.value == values[1])
        // keepVersions 2: the first version is gone.
        await #expect(throws: VaultError.self) {
            _ = try await vault.secret(
                namespace: "app",
                path: "db/password",
                version: 1,
                requester: DomainFixture.requester
            )
        }
        #expect(try await vault.secretVersions(namespace: "app", path: "db/password").map(\.version) == [2, 3])
        // No value is in the store's files in the clear.
        fixture.writer.shutdown()
        for file in try FileManager.default.contentsOfDirectory(atPath: fixture.directory) {
            guard let data = FileManager.default.contents(atPath: "\(fixture.directory)/\(file)") else { continue }
            for value in values { #expect(data.range(of: Data(value.prefix(20))) == nil, "\(file)") }
        }
    }

    @Test func aChangedCiphertextIsAnIntegrityErrorNeverOtherBytes() async throws {
        let (fixture, vault) = try await Self.vault()
        _ = try await vault.putSecret(
            namespace: "app",
            path: "api/key",
            value: Array("k-123".utf8),
            metadata: nil,
            requester: DomainFixture.requester
        )
        try await fixture.store.write { txn in
            guard var entry = try txn.vaultEntry(namespace: "app", path: "secrets/api/key", version: 1) else {
                throw VaultError(.unknownSecret, "the entry is not where the test expects it")
            }
            entry.ciphertext[0] ^= 0x01
            try txn.save(entry)
        }
        do {
            _ = try await vault.secret(
                namespace: "app",
                path: "api/key",
                version: nil,
                requester: DomainFixture.requester
            )
            Issue.record("a changed ciphertext was decrypted")
        } catch {
            #expect(error.code == .integrityError, "\(error)")
        }
    }

    @Test func aKEKRotationReEncryptsEveryEntryUnderTheNewKey() async throws {
        let (fixture, vault) = try await Self.vault()
        for index in 0..<5 {
            _ = try await vault.putSecret(
                namespace: "app",
                path: "s\(index)",
                value: Array("value \(index)".utf8),
                metadata: nil,
                requester: DomainFixture.requester
            )
        }
        let before = try await vault.namespace("app").keks.map(\.version)
        let rotated = try await vault.rotateKEK(namespace: "app", requester: DomainFixture.requester)
        await vault.waitForRotations()
        let current = try #require(rotated.keks.map(\.version).max())
        #expect(!before.contains(current))
        for index in 0..<5 {
            let read = try await vault.secret(
                namespace: "app",
                path: "s\(index)",
                version: nil,
                requester: DomainFixture.requester
            )
            #expect(read.value == Array("value \(index)".utf8) && read.info.kekVersion == current)
        }
        #expect(try await vault.rotationProgress(namespace: "app") == nil)
        #expect(try await vault.namespace("app").keks.map(\.version) == [current])
        #expect(try await fixture.auditActions().contains("vault.kek.rotate"))
    }
}
