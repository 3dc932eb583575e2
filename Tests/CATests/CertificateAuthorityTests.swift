import CA
import Codecs
import CustosTestSupport
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import Testing
import X509

/// The CA over a real token and store, without HTTP: CA keys made in the HSM, certificates issued
/// from openssl's CSRs and checked by `openssl verify`, revocations in the next CRL, policies that
/// refuse naming their rule, and serials made of time and randomness.
@Suite struct CertificateAuthorityTests {
    /// A CA service over a fresh token and store, with a root and an issuing CA under it.
    static func authority() async throws -> (DomainFixture, CertificateAuthority) {
        let fixture = try await DomainFixture(prefix: "ca")
        let authority = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        _ = try await authority.create(
            .init(id: "root", subject: "CN=Test Root,O=Custos", algorithm: .ecP384),
            requester: DomainFixture.requester
        )
        _ = try await authority.create(
            .init(id: "issuing", subject: "CN=Test Issuing,O=Custos", algorithm: .ecP256, parent: "root"),
            requester: DomainFixture.requester
        )
        return (fixture, authority)
    }

    /// A CSR for a fresh EC key made by openssl, as DER.
    static func csr(_ directory: String, _ name: String, subject: String = "/CN=device-1/O=Factory") throws -> [UInt8] {
        try OpenSSLRequests.p256(in: directory, name: name, subject: subject)
    }

    static func write(_ certificates: [[UInt8]], to path: String) throws {
        try Data(certificates.map { PEM.encode($0) + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func anIssuedCertificateChainsToItsRootAndIsStoredWithItsAuditEntry() async throws {
        let (fixture, authority) = try await Self.authority()
        let directory = fixture.directory
        let issued = try await authority.issue(
            ca: "issuing",
            .init(csr: try Self.csr(directory, "leaf"), category: .device, metadata: ["line": "7"]),
            requester: DomainFixture.requester
        )
        #expect(issued.record.issuer == "issuing" && issued.record.metadata == ["line": "7"])
        #expect(issued.chain.count == 2)
        try Self.write([issued.record.der], to: "\(directory)/leaf.pem")
        try Self.write([issued.chain[0]], to: "\(directory)/issuing.pem")
        try Self.write([issued.chain[1]], to: "\(directory)/root.pem")
        let verify = try runCommand(
            "openssl",
            [
                "verify", "-CAfile", "\(directory)/root.pem", "-untrusted", "\(directory)/issuing.pem",
                "\(directory)/leaf.pem",
            ]
        )
        #expect(verify.status == 0 && verify.stdout.contains("OK"), "\(verify)")
        // The leaf certifies the CSR's key.
        let key = try runCommand("openssl", ["pkey", "-in", "\(directory)/leaf.key", "-pubout"])
        let certified = try runCommand("openssl", ["x509", "-in", "\(directory)/leaf.pem", "-noout", "-pubkey"])
        #expect(key.stdout == certified.stdout && !key.stdout.isEmpty)
        let stored = try await #require(
            try fixture.store.read { try $0.certificate(issuer: "issuing", serial: issued.record.serial) }
        )
        #expect(stored.der == issued.record.der && stored.status == .valid)
        #expect(try await fixture.auditActions().filter { $0 == "certificate.issue" }.count == 1)
    }

    @Test func aRevokedCertificateIsInTheNextCRLWithItsReason() async throws {
        let (fixture, authority) = try await Self.authority()
        let directory = fixture.directory
        var serials: [String] = []
        for index in 0..<3 {
            let issued = try await authority.issue(
                ca: "issuing",
                .init(csr: try Self.csr(directory, "leaf\(index)"), category: .device),
                requester: DomainFixture.requester
            )
            serials.append(Hex.encode(issued.record.serial))
        }
        let revoked = try await authority.revoke(
            ca: "issuing",
            serial: serials[1],
            reason: .keyCompromise,
            requester: DomainFixture.requester
        )
        #expect(revoked.status == .revoked)
        await #expect(throws: CAError.self) {
            _ = try await authority.revoke(
                ca: "issuing",
                serial: serials[1],
                reason: .keyCompromise,
                requester: DomainFixture.requester
            )
        }
        let crl = try await authority.crls.publish(try authority.currentCRLScope("issuing"))
        #expect(crl.entries == 1)
        try Data(crl.der).write(to: URL(fileURLWithPath: "\(directory)/issuing.crl"))
        try await Self.write([try derBytes(try authority.chain("issuing")[0])], to: "\(directory)/issuing.pem")
        let text = try runCommand(
            "openssl",
            [
                "crl", "-inform", "DER", "-in", "\(directory)/issuing.crl", "-CAfile", "\(directory)/issuing.pem",
                "-noout", "-text",
            ]
        )
        #expect(text.status == 0 && text.stderr.contains("verify OK"), "\(text)")
        #expect(text.stdout.uppercased().contains(serials[1].uppercased()) && text.stdout.contains("Key Compromise"))
        #expect(!text.stdout.uppercased().contains(serials[0].uppercased()))
    }

    @Test func aPolicyRefusalNamesItsRuleAndStoresNothing() async throws {
        let (fixture, authority) = try await Self.authority()
        var policy = try await authority.policy(ca: "issuing", category: .device)
        policy.maxValidityDays = 30
        policy.validityDays = 30
        policy.requiredSubjectAttributes = ["CN", "O"]
        try await authority.setPolicy(policy, ca: "issuing", category: .device, requester: DomainFixture.requester)
        let csr = try Self.csr(fixture.directory, "leaf")
        func stored() async throws -> Int {
            try await fixture.store.read { try $0.records(CertificateRecord.self, after: nil, limit: .max) }.count
        }
        let before = try await stored()
        let cases: [(CertificateAuthority.IssueRequest, String)] = [
            (.init(csr: csr, category: .device, validityDays: 31), "rule maxValidityDays"),
            (
                .init(csr: try Self.csr(fixture.directory, "no-o", subject: "/CN=device-2"), category: .device),
                "rule requiredSubjectAttributes"
            ),
        ]
        for (request, rule) in cases {
            do {
                _ = try await authority.issue(ca: "issuing", request, requester: DomainFixture.requester)
                Issue.record("issued despite \(rule)")
            } catch {
                #expect(error.code == .policyViolation && error.message.hasPrefix(rule), "\(error)")
            }
        }
        var truncated = csr
        truncated.removeLast(10)
        await #expect(throws: CAError.self) {
            _ = try await authority.issue(
                ca: "issuing",
                .init(csr: truncated, category: .device),
                requester: DomainFixture.requester
            )
        }
        #expect(try await stored() == before)
        // Within the policy the same CSR is issued.
        let issued = try await authority.issue(
            ca: "issuing",
            .init(csr: csr, category: .device, validityDays: 30),
            requester: DomainFixture.requester
        )
        #expect(
            issued.certificate.notValidAfter.timeIntervalSince(issued.certificate.notValidBefore) <= 30 * 86_400 + 60
        )
    }

    @Test func pathLengthsAndWeakKeysAreRefusedAsWhatTheyAre() async throws {
        let (fixture, authority) = try await Self.authority()
        for length in [9, 1 << 40, Int.max, -1] {
            do {
                _ = try await authority.create(
                    .init(id: "deep", subject: "CN=Deep", algorithm: .ecP256, pathLength: length),
                    requester: DomainFixture.requester
                )
                Issue.record("created with pathLength \(length)")
            } catch {
                #expect(error.code == .invalidInput && error.message.contains("pathLength must be 0 to 8"), "\(error)")
            }
        }
        #expect(try await fixture.store.read { try $0.ca(id: "deep") } == nil)
        let depth8 = try await authority.create(
            .init(id: "deep", subject: "CN=Deep", algorithm: .ecP256, pathLength: 8),
            requester: DomainFixture.requester
        )
        #expect(depth8.maxPathLength == 8)

        // A valid request for an RSA-1024 key: a policy refusal naming the rule, not a broken CSR.
        let directory = fixture.directory
        let made = try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", "\(directory)/weak.key", "-subj",
                "/CN=weak/O=Factory", "-outform", "DER", "-out", "\(directory)/weak.der",
            ]
        )
        try #require(made.status == 0, "\(made.stderr)")
        let csr = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/weak.der")))
        do {
            _ = try await authority.issue(
                ca: "issuing",
                .init(csr: csr, category: .device),
                requester: DomainFixture.requester
            )
            Issue.record("issued for an RSA-1024 key")
        } catch {
            #expect(
                error.code == .policyViolation && error.message.hasPrefix("rule allowedKeyAlgorithms: rsa-1024"),
                "\(error)"
            )
        }
        // A request that is broken stays an invalid CSR.
        do {
            _ = try await authority.issue(
                ca: "issuing",
                .init(csr: Array(csr.prefix(csr.count - 20)), category: .device),
                requester: DomainFixture.requester
            )
            Issue.record("issued from a truncated request")
        } catch {
            #expect(error.code == .invalidCSR, "\(error)")
        }
    }

    @Test func serialsCarryTheIssuanceTimeThenEightyRandomBits() async throws {
        let (fixture, authority) = try await Self.authority()
        let csr = try Self.csr(fixture.directory, "leaf")
        var times: [UInt64] = []
        var tails: Set<[UInt8]> = []
        for _ in 0..<24 {
            let before = UInt64(Date().timeIntervalSince1970 * 1000)
            let issued = try await authority.issue(
                ca: "issuing",
                .init(csr: csr, category: .device),
                requester: DomainFixture.requester
            )
            let after = UInt64(Date().timeIntervalSince1970 * 1000) + 1
            let bytes = issued.record.serial
            // As the certificate carries it: a positive 16-byte INTEGER.
            #expect(Array(issued.certificate.serialNumber.bytes) == bytes)
            #expect(bytes.count == 16 && bytes[0] & 0xC0 == 0x40, "\(Hex.encode(bytes))")
            let milliseconds = bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & (1 << 46 - 1)
            #expect((before...after).contains(milliseconds), "\(milliseconds) not in \(before)...\(after)")
            times.append(milliseconds)
            tails.insert(Array(bytes.suffix(10)))
        }
        // Ordered by time (the store appends them), while the random tails all differ.
        #expect(times == times.sorted())
        #expect(tails.count == times.count)
    }
}
