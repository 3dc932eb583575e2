import CA
import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Expiry warnings: each valid certificate that reached a stage (30 days → owner, 7 → team lead, expired →
/// security team) once, with its most advanced stage and its owner; revoked ones, ones far from expiry and
/// ones expired long ago are not warned about; bad stages are refused.
@Suite struct ExpiryWarningsTests {
    @Test func eachCertificateGetsItsMostAdvancedStage() async throws {
        let store = try await CertificateCountsTests.store()
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let day: Int64 = 86_400_000_000_000
        let items: [(name: String, days: Int64, revoked: Bool, owner: String?)] = [
            ("far", 90, false, "a@x"), ("month", 20, false, "b@x"), ("week", 3, false, nil),
            ("expired", -2, false, "c@x"), ("long-gone", -90, false, "d@x"), ("revoked", 3, true, "e@x"),
        ]
        try await store.write { txn in
            for (index, item) in items.enumerated() {
                try txn.save(
                    CertificateRecord(
                        issuer: "line",
                        serial: [0x40, UInt8(index + 1)],
                        subject: "CN=\(item.name)",
                        notBefore: now - 400 * day,
                        notAfter: now + item.days * day,
                        der: [0x30, 0x00],
                        metadata: item.owner.map { ["owner": $0] } ?? [:],
                        category: "device",
                        status: item.revoked ? .revoked : .valid
                    )
                )
            }
        }
        let stages = [
            ExpiryStage(name: "owner", daysBefore: 30), ExpiryStage(name: "team-lead", daysBefore: 7),
            ExpiryStage(name: "security", daysBefore: 0),
        ]
        let (warnings, scanned) = try await CertificateReports(store: store).expiryWarnings(stages: stages)
        #expect(scanned == items.count)
        let found = Dictionary(uniqueKeysWithValues: warnings.map { ($0.subject, $0) })
        #expect(Set(found.keys) == ["CN=month", "CN=week", "CN=expired"], "\(found.keys.sorted())")
        #expect(found["CN=month"]?.stage == "owner" && found["CN=month"]?.owner == "b@x")
        #expect(found["CN=week"]?.stage == "team-lead" && found["CN=week"]?.owner == nil)
        #expect(found["CN=expired"]?.stage == "security" && found["CN=expired"]?.serial == "4004")
        // Longer memory for expired ones brings the long-gone certificate back.
        let longer = try await CertificateReports(store: store).expiryWarnings(stages: stages, expiredForDays: 365)
        #expect(longer.warnings.contains { $0.subject == "CN=long-gone" && $0.stage == "security" })
        await #expect(throws: CAError.self) {
            _ = try await CertificateReports(store: store).expiryWarnings(stages: [ExpiryStage(name: "", daysBefore: 3)]
            )
        }
        await #expect(throws: CAError.self) {
            _ = try await CertificateReports(store: store).expiryWarnings(stages: [])
        }
    }
}
