import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing

/// Signing ahead in the running server: it steps aside for live work, moves on, and sees new CAs.
extension OCSPRouteTests {
    /// `custos_ocsp_responses_total{source="presigned",status="successful"}` from /metrics.
    /// Signing ahead for new certificates steps aside while live work uses the HSM, and a pass cut short
    /// (by live work or by its limit) resumes where it stopped.
    @Test func signingAheadForNewCertificatesWaitsForLiveWorkAndResumes() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-defer")
        try await CARouteTests().createCA(server, id: "defer-root", algorithm: "ec-p256", subject: "CN=Deferring Root")
        func issue(_ name: String) async throws { try await issueDevice(server, ca: "defer-root", name, in: directory) }
        try await issue("first")
        try await issue("second")
        // Issuance just signed in the HSM: new certificates wait.
        let ocsp = server.api.ocsp
        #expect(await ocsp.refresh(deferringNew: .seconds(3600)) == .init(signed: 0, deferred: true))
        // The root's own certificate and two leaves, two CertIDs each, one certificate per pass.
        #expect(await ocsp.refresh(limit: 1) == .init(signed: 2, deferred: false))
        #expect(await ocsp.refreshDue(limit: 1) == 2)
        #expect(await ocsp.refreshDue(limit: 1) == 2)
        #expect(await ocsp.refreshDue() == 0)
        // Once the HSM has been free of live work for the window, new certificates are signed for.
        try await issue("third")
        try await Task.sleep(for: .milliseconds(150))
        #expect(await ocsp.refresh(deferringNew: .milliseconds(100)) == .init(signed: 2, deferred: false))
    }

    /// One pass reads on past a first batch of certificates that all have responses (here 600 stored
    /// directly, under an issuer id that sorts first) to the new ones behind it.
    @Test func signingAheadReadsPastCertificatesThatHaveResponses() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-scan")
        let now = Int64(Date().timeIntervalSince1970)
        _ = try await server.api.authority.store.write { txn in
            for index in 0..<600 {
                let serial = [0x40, UInt8(index >> 8), UInt8(index & 0xFF)]
                try txn.save(
                    CertificateRecord(
                        issuer: "a-earlier",
                        serial: serial,
                        subject: "CN=earlier \(index)",
                        notBefore: 0,
                        notAfter: (now + 86_400) * 1_000_000_000,
                        der: [0x30, 0x00],
                        metadata: [:]
                    )
                )
                for tag: UInt8 in [1, 2] {
                    try txn.save(
                        OCSPResponseRecord(
                            issuer: "a-earlier",
                            serial: serial,
                            hashAlgorithm: tag,
                            der: [0x30, 0x00],
                            thisUpdate: now,
                            nextUpdate: now + 86_400
                        )
                    )
                }
            }
        }
        try await CARouteTests().createCA(server, id: "scan-root", algorithm: "ec-p256", subject: "CN=Scanning Root")
        try await issueDevice(server, ca: "scan-root", "leaf", in: directory)
        // Looking at fewer certificates than lie before them finds nothing yet; the next pass goes on
        // from there to the root's own certificate and the leaf, two CertIDs each.
        let ocsp = server.api.ocsp
        #expect(await ocsp.refresh(scanLimit: 400) == .init(signed: 0, deferred: false))
        #expect(await ocsp.refresh(scanLimit: 400) == .init(signed: 4, deferred: false))
        // That pass reached the end: the next one starts at the front and reads on past the first 500.
        try await CARouteTests().createCA(server, id: "scan-second", algorithm: "ec-p256", subject: "CN=Second Root")
        #expect(await ocsp.refresh() == .init(signed: 2, deferred: false))
    }

    /// A CA created after the responder indexed the CAs is known at once: a live request naming it is
    /// answered (not `unauthorized`) and the next pass signs ahead for its certificates. The responder
    /// rebuilds its index when the CA table's change stamp moves (before, at most once a second, so a
    /// pass in that second skipped the new CA's certificates until the next cycle through the table).
    @Test func aCACreatedAfterTheIndexIsAnsweredForAndSignedAheadAtOnce() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ocsp-new-ca")
        let ocsp = server.api.ocsp
        try await CARouteTests().createCA(server, id: "early-root", algorithm: "ec-p256", subject: "CN=Early Root")
        // Builds the index: the root's own certificate, two CertIDs.
        #expect(await ocsp.refreshDue() == 2)
        let later = try await CARouteTests().createCA(
            server,
            id: "later-root",
            algorithm: "ec-p256",
            subject: "CN=Later Root"
        )
        let caPath = "\(directory)/later.pem"
        try (later["certificate"] as? String ?? "").write(toFile: caPath, atomically: true, encoding: .utf8)
        _ = try runCommand(
            "openssl",
            ["ocsp", "-issuer", caPath, "-serial", "0x1", "-no_nonce", "-reqout", "\(directory)/later.req"]
        )
        let request = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(directory)/later.req")))
        // Serial 1 was never issued: unknown, in a successful answer signed by the new CA.
        let answer = await ocsp.respond(to: request)
        #expect(answer.status == .successful && answer.source == .live, "\(answer.status) \(answer.source)")
        try await issueDevice(server, ca: "later-root", "later leaf", in: directory)
        // The new root's certificate and its leaf, two CertIDs each.
        #expect(await ocsp.refreshDue() == 4)
    }
}
