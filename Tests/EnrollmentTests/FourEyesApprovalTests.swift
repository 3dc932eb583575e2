import CustosTestSupport
import Enrollment
import MetadataStore
import Testing

/// Four eyes: a request an officer makes in the console waits for another officer.
@Suite struct FourEyesApprovalTests {
    /// An officer's request (the console) is held under manual approval, approved only by another
    /// officer, and an officer's identity is not taken from any client protocol.
    @Test func anOfficersRequestNeedsAnotherOfficer() async throws {
        let (fixture, service) = try await EnrollmentServiceTests.service()
        _ = try await service.save(
            EnrollmentProfile(
                id: "witnessed",
                ca: "devices",
                category: .device,
                protocols: [.console],
                approval: .manual
            ),
            replacing: false,
            requester: DomainFixture.requester
        )
        let csr = try OpenSSLRequests.p256(in: fixture.directory, name: "w", subject: "/CN=witnessed")
        var asked = EnrollmentRequest(
            profile: "witnessed",
            protocolName: .console,
            operation: .enroll,
            csr: csr,
            credentials: ClientCredentials(officer: "credential/alice")
        )
        guard case .pending(let held) = try await service.enroll(asked) else {
            Issue.record("an officer's request under manual approval was not held")
            return
        }
        #expect(held.client == "credential/alice")
        await #expect { _ = try await service.approve(held.id, requester: .init(actor: "credential/alice")) } throws: {
            ($0 as? EnrollmentError)?.code == .forbidden && "\($0)".contains("four eyes")
        }
        let approved = try await service.approve(held.id, requester: .init(actor: "credential/bob"))
        #expect(approved.state == .issued && approved.decidedBy == "credential/bob")
        let issued = try await fixture.store.read { try $0.records(CertificateRecord.self, after: nil, limit: 100) }
            .filter { $0.category == "device" }
        #expect(issued.count == 1 && issued.first?.metadata["enrollment.client"] == "credential/alice")
        // EST (or any client protocol) cannot claim an officer.
        asked.protocolName = .est
        _ = try await service.save(
            EnrollmentProfile(id: "open", ca: "devices", category: .device, protocols: [.est, .console]),
            replacing: false,
            requester: DomainFixture.requester
        )
        asked.profile = "open"
        await #expect { _ = try await service.enroll(asked) } throws: {
            ($0 as? EnrollmentError)?.code == .unauthenticated && "\($0)".contains("console only")
        }
    }
}
