import ACME
import ACMEValidation
import CA
import Codecs
import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@testable import Enrollment

/// The ACME service without HTTP, over a real token and store: nonces that any instance on the store
/// accepts once, profile policy, and the sweep of expired state.
@Suite struct ACMEServiceTests {
    static func service(_ fixture: DomainFixture) async throws -> ACMEService {
        let authority = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        let enrollment = EnrollmentService(authority: authority)
        return ACMEService(
            enrollment: enrollment,
            validator: try ChallengeValidator(settings: .init(resolvers: ["127.0.0.1:53"]))
        )
    }

    @Test func aNonceFromOneInstanceIsAcceptedOnceByAnother() async throws {
        let fixture = try await DomainFixture(prefix: "acme-nonce")
        let first = try await Self.service(fixture)
        // A second instance on the same store: another process, or this one after a restart (the nonce
        // lives only in the store).
        let second = try await Self.service(fixture)
        let nonce = try await first.nonces.next()
        #expect(Base64URL.decode(nonce)?.count == 24)
        try await second.nonces.consume(nonce)
        await #expect(throws: ACMEProblem.self) { try await first.nonces.consume(nonce) }
        await #expect(throws: ACMEProblem.self) { try await second.nonces.consume(nonce) }
        // Made in batches: the first instance hands out the rest of its batch without writing.
        let before = fixture.writer.statistics.writes
        var handedOut = Set<String>()
        for _ in 0..<10 { handedOut.insert(try await first.nonces.next()) }
        #expect(handedOut.count == 10 && fixture.writer.statistics.writes == before)
        for nonce in handedOut { try await second.nonces.consume(nonce) }
        // Forged: right length, never handed out; expired: the expiry in the text has passed.
        var forged = Array(Base64URL.decode(nonce)!)
        forged[20] ^= 0xFF
        await #expect(throws: ACMEProblem.self) { try await second.nonces.consume(Base64URL.encode(forged)) }
        let expired = ACMENonces.text(
            ACMENonceRecord(expires: EnrollmentService.now() - 1, value: Array(forged.suffix(16)))
        )
        do {
            try await second.nonces.consume(expired)
            Issue.record("an expired nonce was accepted")
        } catch {
            #expect(error.kind == .badNonce && error.detail.contains("expired"))
        }
    }

    @Test func theSweepRemovesExpiredNoncesOrdersAndAuthorizations() async throws {
        let fixture = try await DomainFixture(prefix: "acme-sweep")
        let service = try await Self.service(fixture)
        let past = EnrollmentService.now() - 3_600_000_000_000
        let future = EnrollmentService.now() + 3_600_000_000_000
        try await fixture.store.write { txn in
            try txn.save(ACMENonceRecord(expires: past, value: [1, 2, 3]))
            try txn.save(ACMENonceRecord(expires: future, value: [4, 5, 6]))
            for (id, expires) in [("old", past), ("new", future)] {
                try txn.save(
                    ACMEOrderRecord(
                        id: id,
                        profile: "web",
                        account: "a",
                        identifiers: ["dns:x.test"],
                        authorizations: [id],
                        expires: expires,
                        created: past
                    )
                )
                try txn.save(
                    ACMEAuthorizationRecord(
                        id: id,
                        profile: "web",
                        account: "a",
                        identifier: "dns:x.test",
                        wildcard: false,
                        expires: expires,
                        token: "t",
                        challenges: ["http-01"],
                        created: past
                    )
                )
            }
        }
        let swept = try await service.sweep(retention: .seconds(60))
        #expect(swept == ACMEService.Sweep(nonces: 1, orders: 1, authorizations: 1))
        let left = try await fixture.store.read { reader in
            (
                try reader.acmeOrder(id: "old"), try reader.acmeOrder(id: "new"),
                try reader.acmeAuthorization(id: "old"),
                try reader.acmeNonces(limit: 10).count
            )
        }
        #expect(left.0 == nil && left.1 != nil && left.2 == nil && left.3 == 1)
        #expect(try await fixture.auditActions().filter { $0 == "acme.sweep" }.count == 1)
        #expect(try await service.sweep(retention: .seconds(60)) == ACMEService.Sweep())
    }

    @Test func thePolicyAllowsOnlyItsDomainsAndRanges() throws {
        let policy = ACMEPolicy(
            allowedDomains: ["acme.test"],
            allowedIPRanges: ["10.0.0.0/8", "fd00::/8"],
            allowWildcards: false
        )
        try policy.validate()
        func refusal(_ kind: ACMEIdentifier.Kind, _ value: String) throws -> String? {
            policy.refusal(try ACMEIdentifier(kind: kind, value: value))
        }
        #expect(try refusal(.dns, "acme.test") == nil && refusal(.dns, "a.b.ACME.test") == nil)
        #expect(try refusal(.dns, "xacme.test") != nil && refusal(.dns, "acme.test.evil") != nil)
        #expect(try refusal(.dns, "*.acme.test")?.contains("wildcard") == true)
        #expect(try refusal(.ip, "10.255.0.1") == nil && refusal(.ip, "11.0.0.1") != nil)
        #expect(try refusal(.ip, "fd12::1") == nil && refusal(.ip, "fe80::1") != nil)
        #expect(policy.challenges(for: try ACMEIdentifier(kind: .ip, value: "10.0.0.1")) == ["http-01", "tls-alpn-01"])
        let wildcard = ACMEPolicy(allowedDomains: ["."])
        #expect(wildcard.challenges(for: try ACMEIdentifier(kind: .dns, value: "*.x.test")) == ["dns-01"])
        #expect(wildcard.refusal(try ACMEIdentifier(kind: .dns, value: "anything.example")) == nil)
        for bad in [
            ACMEPolicy(), ACMEPolicy(allowedDomains: ["*.x.test"]), ACMEPolicy(allowedIPRanges: ["10.0.0.0/33"]),
            ACMEPolicy(allowedDomains: ["x.test"], challenges: ["http-02"]),
            ACMEPolicy(allowedDomains: ["x.test"], termsOfService: "ftp://x"),
            ACMEPolicy(allowedDomains: ["x.test"], pendingHours: 0),
        ] {
            #expect(throws: EnrollmentError.self) { try bad.validate() }
        }
    }
}
