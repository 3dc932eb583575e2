import Access
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Credentials against a real store: secrets are shown once and kept only as hashes, revocation is
/// seen by the next lookup, every change and refusal is an audit entry, and the roles decide.
@Suite struct CredentialsTests {
    static func store() async throws -> (LMDBBackend, StoreWriter) {
        let (schema, writer) = try await CustosStore.open(dataDirectory: try makeTemporaryDirectory("access"))
        return (LMDBBackend(schema: schema, writer: writer), writer)
    }

    @Test func aCredentialAuthenticatesUntilRevokedAndItsSecretIsNotStored() async throws {
        let (store, writer) = try await Self.store()
        defer { writer.shutdown() }
        let credentials = Credentials(store: store)
        let requester = Requester(actor: "test", requestID: "r1")
        let (record, secret) = try await credentials.create(
            role: .signer,
            keyPatterns: ["line-*"],
            requester: requester
        )
        #expect(secret.hasPrefix("cst_") && secret.utf8.count == 47)
        #expect(try await credentials.authenticate(secret)?.id == record.id)
        #expect(try await credentials.authenticate(secret + "x") == nil)
        #expect(try await credentials.authenticate("cst_" + String(repeating: "A", count: 43)) == nil)
        let stored = try #require(try await store.read { try $0.credential(id: record.id) })
        #expect(stored.secretHash.count == 32 && stored.secretHash != Array(secret.utf8))
        #expect(try await credentials.revoke(id: record.id, requester: requester))
        #expect(try await credentials.authenticate(secret) == nil)
        #expect(try await credentials.revoke(id: "nosuch", requester: requester) == false)
        try await credentials.recordRefusal(
            actor: "anonymous",
            request: "GET /v1/keys",
            outcome: "denied: x",
            requestID: "r2"
        )
        let entries = try await store.read { try $0.auditEntries(after: nil, limit: 10) }
        #expect(entries.map(\.event.action) == ["credential.create", "credential.revoke", "api.access"])
        #expect(entries[0].event.outcome == "success: role signer, keys line-*" && entries[0].event.requestID == "r1")
        #expect(entries[2].event.object == "GET /v1/keys" && entries[2].event.requestID == "r2")
        #expect(try await store.read { try $0.auditEntries(after: entries[0].sequence, limit: 10) }.count == 2)
    }

    @Test func malformedRequestsAreRefusedBeforeAnythingIsWritten() async throws {
        let (store, writer) = try await Self.store()
        defer { writer.shutdown() }
        let credentials = Credentials(store: store)
        let cases: [(CredentialRecord.Role, [String], String?, String)] = [
            (.signer, ["k"], "t", "a tenant limits officer and auditor credentials only"),
            (.officer, [], "", "a tenant has 1 to 64 characters"),
            (.signer, [""], nil, "a key pattern has 1 to 128 characters"),
            (.officer, ["k"], nil, "patterns apply to the signer, vault and trigger roles only"),
        ]
        for (role, patterns, tenant, message) in cases {
            await #expect(throws: AccessError.self, "\(message)") {
                _ = try await credentials.create(
                    role: role,
                    keyPatterns: patterns,
                    tenant: tenant,
                    requester: Requester(actor: "test")
                )
            }
            do {
                _ = try await credentials.create(
                    role: role,
                    keyPatterns: patterns,
                    tenant: tenant,
                    requester: .init(actor: "t")
                )
            } catch let error as AccessError {
                #expect(error.code == .invalidInput && error.message == message)
            }
        }
        #expect(try await credentials.list().isEmpty)
        #expect(try await store.read { try $0.auditEntries(after: nil, limit: 10) }.isEmpty)
    }

    @Test func rolesTenantsAndPatternsDecide() throws {
        func credential(_ role: CredentialRecord.Role, _ patterns: [String] = [], tenant: String? = nil)
            -> CredentialRecord
        {
            CredentialRecord(
                id: "c",
                secretHash: Array(repeating: 0, count: 32),
                role: role,
                keyPatterns: patterns,
                tenant: tenant,
                created: 0,
                revoked: false
            )
        }
        let signer = credential(.signer, ["line-*", "exact"])
        #expect(signer.permits(key: "line-7") && signer.permits(key: "exact") && !signer.permits(key: "exactly"))
        #expect(!signer.permits(key: "other") && !signer.permits(namespace: "line-7"))
        try signer.requireSigner(for: "line-1")
        #expect(throws: AccessError.self) { try signer.requireSigner(for: "other") }
        #expect(throws: AccessError.self) { try credential(.admin).requireSigner(for: "line-1") }
        #expect(
            credential(.admin).permits(namespace: "any") && credential(.vault, ["app/*"]).permits(namespace: "app/x")
        )
        #expect(!credential(.vault, ["app/*"]).permits(namespace: "other"))
        try credential(.officer).require([.admin, .officer])
        do {
            try credential(.auditor).require([.admin, .officer])
            Issue.record("an auditor passed an officer's route")
        } catch {
            #expect(
                error.code == .forbidden
                    && error.message == "this route needs the role admin or officer; this credential is auditor"
            )
        }
        let tenant = credential(.officer, tenant: "a")
        try tenant.require(tenant: "a")
        try credential(.officer).require(tenant: "b")
        #expect(throws: AccessError.self) { try tenant.require(tenant: "b") }
    }

    @Test func aBucketRefillsAtItsRateUpToItsBurst() {
        let limiter = RateLimiter(rate: 10, burst: 5)
        let start = ContinuousClock.now
        #expect(limiter.take(5, for: "a", now: start) == nil)
        #expect(limiter.take(1, for: "a", now: start) == 1)
        // Another credential has its own bucket.
        #expect(limiter.take(3, for: "b", now: start) == nil)
        #expect(limiter.take(1, for: "a", now: start + .milliseconds(100)) == nil)
        #expect(limiter.take(5, for: "a", now: start + .seconds(10)) == nil)
        // More than the burst at once passes on a full bucket and leaves it in debt: 46 tokens at 10 a
        // second before the next signature.
        #expect(limiter.take(50, for: "c", now: start) == nil)
        #expect(limiter.take(1, for: "c", now: start) == 5)
        #expect(limiter.take(1, for: "c", now: start + .seconds(5)) == nil)
    }
}
