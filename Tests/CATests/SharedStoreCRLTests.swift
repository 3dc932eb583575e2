import CA
import Codecs
import CustosTestSupport
import CustosX509
import Foundation
import MetadataStore
import Testing

/// Two CA services on one store and token, as two nodes: they serve the same stored CRL, a revocation
/// through one is in the CRL the other serves next, and a newer CRL one issued is taken by the other.
@Suite struct SharedStoreCRLTests {
    @Test func nodesServeTheSameCRLsAndSeeEachOthersRevocations() async throws {
        let (fixture, a) = try await CertificateAuthorityTests.authority()
        let b = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        let scope = try await a.currentCRLScope("issuing")
        var serials: [String] = []
        for name in ["one", "two"] {
            let issued = try await a.issue(
                ca: "issuing",
                .init(csr: try CertificateAuthorityTests.csr(fixture.directory, name), category: .device),
                requester: DomainFixture.requester
            )
            serials.append(Hex.encode(issued.record.serial))
        }

        // A issues; B serves A's CRL from the store rather than issuing its own.
        let first = try await a.crls.current(scope)
        let served = try await b.crls.current(scope)
        #expect(served.der == first.der && served.number == first.number)
        #expect(try await b.crls.current(scope, delta: true).der == (try await a.crls.current(scope, delta: true)).der)
        #expect(try await fixture.store.read { try $0.crl(scope: scope) }?.number == first.number)

        // Revoked through A: B has not been told, yet its next CRL lists it (the revocations' change
        // stamp moved and the store's recent revocations are not all in B's CRL).
        _ = try await a.revoke(
            ca: "issuing",
            serial: serials[0],
            reason: .keyCompromise,
            requester: DomainFixture.requester
        )
        let afterRevocation = try await b.crls.current(scope)
        #expect(afterRevocation.number > first.number && afterRevocation.entries == 1)
        let delta = try await b.crls.current(scope, delta: true)
        #expect(delta.number == afterRevocation.number + 1)
        // A takes B's newer CRL (the stored one moved on), so both serve one CRL again.
        let aNow = try await a.crls.current(scope)
        #expect(aNow.number >= afterRevocation.number && aNow.entries == 1)
        #expect(try await b.crls.current(scope).der == (try await a.crls.current(scope)).der)

        // A revocation of another CA's certificate moves the stamp too, but this CA's CRL stays.
        let root = try await a.currentCRLScope("root")
        let rootFirst = try await a.crls.current(root)
        let stays = try await b.crls.current(scope)
        _ = try await a.revoke(
            ca: "issuing",
            serial: serials[1],
            reason: .superseded,
            requester: DomainFixture.requester
        )
        let rootCRL = try await b.crls.current(root)
        #expect(rootCRL.number == rootFirst.number && rootCRL.entries == 0)
        let again = try await b.crls.current(scope)
        #expect(again.entries == 2 && again.number > stays.number)
        // With nothing new, no new CRL: the same number on every fetch.
        #expect(try await b.crls.current(scope).number == again.number)
        #expect(try await a.crls.current(scope).number == again.number)
    }
}
