import CA
import Codecs
import CustosTestSupport
import CustosX509
import Enrollment
import Foundation
import MetadataStore
import SwiftASN1
import Testing
import X509

/// The enrollment service over a real token and store, without HTTP: profile checks, subject
/// templates, one-time passwords that work once even when raced, renewal windows, and what deleting a
/// profile does to the requests it holds.
@Suite struct EnrollmentServiceTests {
    static func service() async throws -> (DomainFixture, EnrollmentService) {
        let fixture = try await DomainFixture(prefix: "enr")
        let authority = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        _ = try await authority.create(
            .init(id: "devices", subject: "CN=Devices,O=Custos", algorithm: .ecP256),
            requester: DomainFixture.requester
        )
        return (fixture, EnrollmentService(authority: authority))
    }

    static func request(
        _ profile: String,
        csr: [UInt8],
        password: String? = nil,
        certificate: Certificate? = nil,
        operation: EnrollmentRequest.Operation = .enroll
    ) -> EnrollmentRequest {
        EnrollmentRequest(
            profile: profile,
            protocolName: .est,
            operation: operation,
            csr: csr,
            credentials: ClientCredentials(
                username: "d",
                password: password,
                certificateChain: certificate.map { [$0] } ?? []
            )
        )
    }

    @Test func profilesAreCheckedBeforeTheyAreStored() async throws {
        let (fixture, service) = try await Self.service()
        defer { withExtendedLifetime(fixture) {} }
        let cases: [(EnrollmentProfile, String)] = [
            (EnrollmentProfile(id: "Line_3", ca: "devices", category: .device), "a profile name has 1 to 64"),
            (EnrollmentProfile(id: "x", ca: "nowhere", category: .device), "no CA is named"),
            (EnrollmentProfile(id: "x", ca: "devices", category: .device, subjectTemplate: "CN={NOPE}"), "{NOPE}"),
            (EnrollmentProfile(id: "x", ca: "devices", category: .device, subjectTemplate: "CN={CN"), "without }"),
            (
                EnrollmentProfile(id: "x", ca: "devices", category: .device, subjectTemplate: "CN={CLIENT.NOPE}"),
                "{CLIENT.NOPE}"
            ),
            (EnrollmentProfile(id: "x", ca: "devices", category: .ocspSigning), "OCSP signer"),
            (EnrollmentProfile(id: "x", ca: "devices", category: .registrationAuthority), "SCEP RA"),
            (EnrollmentProfile(id: "x", ca: "devices", category: .device, protocols: []), "protocols"),
            (
                EnrollmentProfile(
                    id: "x",
                    ca: "devices",
                    category: .device,
                    authentication: .init(clientCertificateAnchors: ["not a certificate"])
                ),
                "clientCertificateAnchors[0]"
            ),
        ]
        for (profile, expected) in cases {
            do {
                _ = try await service.save(profile, replacing: false, requester: DomainFixture.requester)
                Issue.record("\(profile.id) was stored")
            } catch {
                #expect(error.code == .invalidInput && error.message.contains(expected), "\(error)")
            }
        }
        #expect(try await service.profiles(after: nil, limit: 10).isEmpty)
        let good = EnrollmentProfile(id: "line-3", ca: "devices", category: .device)
        _ = try await service.save(good, replacing: false, requester: DomainFixture.requester)
        await #expect(throws: EnrollmentError.self) {
            try await service.save(good, replacing: false, requester: DomainFixture.requester)
        }
    }

    @Test func aSubjectTemplateCertifiesTheNameTheProfileGives() async throws {
        let (fixture, service) = try await Self.service()
        _ = try await service.save(
            EnrollmentProfile(
                id: "meters",
                ca: "devices",
                category: .device,
                subjectTemplate: "CN={SERIALNUMBER},O=Acme Meters"
            ),
            replacing: false,
            requester: DomainFixture.requester
        )
        let password = try await service.createOneTimePassword(
            profile: "meters",
            label: nil,
            validHours: 1,
            requester: DomainFixture.requester
        )
        let csr = try OpenSSLRequests.p256(
            in: fixture.directory,
            name: "m",
            subject: "/CN=anything/serialNumber=SN-0042"
        )
        guard
            case .issued(let record, _) = try await service.enroll(
                Self.request("meters", csr: csr, password: password.secret)
            )
        else {
            Issue.record("not issued")
            return
        }
        #expect(record.subject == "CN=SN-0042,O=Acme Meters")
        #expect(record.metadata[EnrollmentService.profileMetadataKey] == "meters")

        // A request without the attribute the template needs is refused by name.
        let other = try await service.createOneTimePassword(
            profile: "meters",
            label: nil,
            validHours: 1,
            requester: DomainFixture.requester
        )
        let plain = try OpenSSLRequests.p256(in: fixture.directory, name: "p", subject: "/CN=plain")
        await #expect {
            try await service.enroll(Self.request("meters", csr: plain, password: other.secret))
        } throws: { error in
            (error as? EnrollmentError)?.message.contains("rule subjectTemplate") == true
        }
    }

    /// Two requests race with one one-time password: exactly one certificate is issued.
    @Test func aOneTimePasswordWorksOnceEvenWhenRaced() async throws {
        let (fixture, service) = try await Self.service()
        _ = try await service.save(
            EnrollmentProfile(id: "line", ca: "devices", category: .device),
            replacing: false,
            requester: DomainFixture.requester
        )
        let password = try await service.createOneTimePassword(
            profile: "line",
            label: "x",
            validHours: 1,
            requester: DomainFixture.requester
        )
        let csrs = try (0..<6).map {
            try OpenSSLRequests.p256(in: fixture.directory, name: "r\($0)", subject: "/CN=race-\($0)")
        }
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for csr in csrs {
                group.addTask {
                    (try? await service.enroll(Self.request("line", csr: csr, password: password.secret))) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
        let issued = try await fixture.store.read { try $0.records(CertificateRecord.self, after: nil, limit: 100) }
            .filter { $0.category == "device" }
        #expect(issued.count == 1)
        let used = try await service.oneTimePasswords(profile: "line")
        #expect(used.count == 1 && used[0].used != nil)
    }

    @Test func renewalOpensOnlyInsideItsWindow() async throws {
        let (fixture, service) = try await Self.service()
        _ = try await service.save(
            EnrollmentProfile(
                id: "line",
                ca: "devices",
                category: .device,
                validityDays: 30,
                renewal: .init(windowDays: 7, allowSameKey: false)
            ),
            replacing: false,
            requester: DomainFixture.requester
        )
        let password = try await service.createOneTimePassword(
            profile: "line",
            label: nil,
            validHours: 1,
            requester: DomainFixture.requester
        )
        let csr = try OpenSSLRequests.p256(in: fixture.directory, name: "d", subject: "/CN=d1")
        guard
            case .issued(let record, _) = try await service.enroll(
                Self.request("line", csr: csr, password: password.secret)
            )
        else {
            Issue.record("not issued")
            return
        }
        let certificate = try Certificate(derEncoded: record.der)
        let renewal = try OpenSSLRequests.p256(in: fixture.directory, name: "d2", subject: "/CN=d1")
        await #expect {
            try await service.enroll(Self.request("line", csr: renewal, certificate: certificate, operation: .reenroll))
        } throws: { error in
            let error = error as? EnrollmentError
            return error?.code == .forbidden && error?.message.contains("rule renewal.windowDays") == true
        }
        // With the window wide open the same key is still refused, a new one accepted.
        _ = try await service.save(
            EnrollmentProfile(
                id: "line",
                ca: "devices",
                category: .device,
                renewal: .init(windowDays: 60, allowSameKey: false)
            ),
            replacing: true,
            requester: DomainFixture.requester
        )
        await #expect {
            try await service.enroll(Self.request("line", csr: csr, certificate: certificate, operation: .reenroll))
        } throws: { error in
            (error as? EnrollmentError)?.message.contains("rule renewal.allowSameKey") == true
        }
        let renewed = try await service.enroll(
            Self.request("line", csr: renewal, certificate: certificate, operation: .reenroll)
        )
        guard case .issued(let next, _) = renewed else {
            Issue.record("not renewed")
            return
        }
        #expect(next.metadata[CertificateAuthority.renewedFromMetadataKey] == Hex.encode(record.serial))
    }

    /// A held request keeps the subject of the client's certificate, so that the profile's template
    /// can use it when an officer approves later.
    @Test func anApprovedRequestIsNamedFromTheClientsCertificate() async throws {
        let (fixture, service) = try await Self.service()
        _ = try await service.save(
            EnrollmentProfile(id: "first", ca: "devices", category: .device),
            replacing: false,
            requester: DomainFixture.requester
        )
        _ = try await service.save(
            EnrollmentProfile(
                id: "bound",
                ca: "devices",
                category: .device,
                subjectTemplate: "CN={CLIENT.CN}",
                approval: .manual
            ),
            replacing: false,
            requester: DomainFixture.requester
        )
        let password = try await service.createOneTimePassword(
            profile: "first",
            label: nil,
            validHours: 1,
            requester: DomainFixture.requester
        )
        let csr = try OpenSSLRequests.p256(in: fixture.directory, name: "c1", subject: "/CN=dev-1")
        guard
            case .issued(let record, _) = try await service.enroll(
                Self.request("first", csr: csr, password: password.secret)
            )
        else {
            Issue.record("not issued")
            return
        }
        let certificate = try Certificate(derEncoded: record.der)
        let next = try OpenSSLRequests.p256(in: fixture.directory, name: "c2", subject: "/CN=whatever")
        guard
            case .pending(let held) = try await service.enroll(
                Self.request("bound", csr: next, certificate: certificate)
            )
        else {
            Issue.record("not held")
            return
        }
        #expect(held.clientSubject == "CN=dev-1")
        let approved = try await service.approve(held.id, requester: DomainFixture.requester)
        let issued = try await fixture.store.read {
            try $0.certificate(issuer: "devices", serial: Hex.decode(approved.serial ?? "") ?? [])
        }
        #expect(issued?.subject == "CN=dev-1", "\(String(describing: issued?.subject))")
    }

    @Test func deletingAProfileRejectsWhatItHoldsAndDropsItsPasswords() async throws {
        let (fixture, service) = try await Self.service()
        _ = try await service.save(
            EnrollmentProfile(id: "held", ca: "devices", category: .device, approval: .manual),
            replacing: false,
            requester: DomainFixture.requester
        )
        let password = try await service.createOneTimePassword(
            profile: "held",
            label: nil,
            validHours: 1,
            requester: DomainFixture.requester
        )
        let csr = try OpenSSLRequests.p256(in: fixture.directory, name: "h", subject: "/CN=held")
        guard
            case .pending(let request) = try await service.enroll(
                Self.request("held", csr: csr, password: password.secret)
            )
        else {
            Issue.record("not held")
            return
        }
        try await service.delete("held", requester: DomainFixture.requester)
        let after = try await service.request(request.id)
        #expect(after.state == .rejected && after.reason == "the enrollment profile was deleted")
        #expect(try await fixture.store.read { try $0.enrollmentSecret(id: password.record.id) } == nil)
        await #expect(throws: EnrollmentError.self) {
            try await service.approve(request.id, requester: DomainFixture.requester)
        }
        #expect(try await fixture.auditActions().contains("enrollment.profile.delete"))
    }

    /// csrattrs as DER: the policy's required attributes and, for an EC-only policy, the key and signature.
    @Test func csrAttributesFollowThePolicy() async throws {
        let (fixture, service) = try await Self.service()
        defer { withExtendedLifetime(fixture) {} }
        _ = try await service.save(
            EnrollmentProfile(id: "p", ca: "devices", category: .device, subjectTemplate: "CN={SERIALNUMBER}"),
            replacing: false,
            requester: DomainFixture.requester
        )
        var policy = IssuancePolicy.default(for: .device)
        policy.allowedKeyAlgorithms = ["ec-p384"]
        try await service.authority.setPolicy(
            policy,
            ca: "devices",
            category: .device,
            requester: DomainFixture.requester
        )
        let der = try await service.csrAttributes(profile: "p")
        let root = try DER.parse(der)
        var oids: [ASN1ObjectIdentifier] = []
        var curves: [ASN1ObjectIdentifier] = []
        guard case .constructed(let items) = root.content else {
            Issue.record("not a SEQUENCE")
            return
        }
        for item in items {
            if item.identifier == .objectIdentifier {
                oids.append(try ASN1ObjectIdentifier(derEncoded: item))
            } else {
                try DER.sequence(item, identifier: .sequence) { attribute in
                    #expect(try ASN1ObjectIdentifier(derEncoded: &attribute) == [1, 2, 840, 10045, 2, 1])
                    let values = try DER.set(
                        of: ASN1ObjectIdentifier.self,
                        identifier: .set,
                        rootNode: attribute.next()!
                    )
                    curves += values
                }
            }
        }
        #expect(oids.contains(.RDNAttributeType.commonName) && oids.contains([2, 5, 4, 5]))
        #expect(oids.contains([1, 2, 840, 10045, 4, 3, 3]), "ecdsa-with-SHA384 for a P-384-only policy")
        #expect(curves == [[1, 3, 132, 0, 34]])
    }
}
