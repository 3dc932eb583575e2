import APIModels
import CA
import CustosTestSupport
import Foundation
import Logging
import MetadataStore
import Synchronization
import Testing

@testable import Notifications

/// The operations watch over a real token and store: each finding becomes one audit entry (and the
/// notifications of rules naming it, in the same write), the HSM on each transition only.
@Suite struct OperationsWatchTests {
    @Test func findingsAreRecordedOnceAndNotifyThroughTheOutbox() async throws {
        let fixture = try await DomainFixture(prefix: "watch")
        let outbox = NotificationOutbox()
        let store = NotifyingBackend(fixture.store, outbox: outbox)
        let authority = CertificateAuthority(signing: fixture.signing, store: store)
        _ = try await authority.create(
            .init(id: "short", subject: "CN=Short-Lived CA", algorithm: .ecP256, validityDays: 10),
            requester: DomainFixture.requester
        )
        _ = try await authority.create(
            .init(id: "long", subject: "CN=Long-Lived CA", algorithm: .ecP256),
            requester: DomainFixture.requester
        )
        // A rule for the HSM's events, through a webhook channel (the outbox keeps what it would send).
        try await fixture.store.write { txn in
            let channel = NotificationChannelBody(
                name: "ops",
                webhook: WebhookChannelBody(
                    url: "https://hooks.example.com/x",
                    secret: VaultSecretReference(namespace: "n", path: "p")
                )
            )
            try txn.save(
                NotificationChannelRecord(
                    name: "ops",
                    tenant: nil,
                    document: Array(try JSONEncoder().encode(channel)),
                    updated: 0
                )
            )
            let rule = NotificationRuleBody(
                name: "hsm",
                channel: "ops",
                events: ["hsm.unavailable", "hsm.recovered", "crl.late"]
            )
            try txn.save(
                NotificationRuleRecord(
                    name: "hsm",
                    tenant: nil,
                    document: Array(try JSONEncoder().encode(rule)),
                    updated: 0
                )
            )
        }
        let down = Mutex<String?>(nil)
        let watch = OperationsWatch(store: store, token: "watch-token", logger: Logger(label: "test")) {
            down.withLock { $0 }
        }

        #expect(await watch.check() == ["ca.expiring"])
        #expect(try await fixture.store.read { try $0.verifyAudit() }.firstBroken == nil)
        #expect(await watch.check().isEmpty, "reported twice")
        down.withLock { $0 = "CKR_DEVICE_REMOVED" }
        #expect(await watch.check() == ["hsm.unavailable"])
        #expect(await watch.check().isEmpty)
        down.withLock { $0 = nil }
        #expect(await watch.check() == ["hsm.recovered"])
        // A CRL past its nextUpdate (seconds since 1970), once per number.
        try await fixture.store.write { txn in
            try txn.save(
                CRLRecord(
                    scope: "long",
                    number: 7,
                    thisUpdate: 1_700_000_000,
                    fullNextUpdate: 1_700_086_400,
                    deltaNextUpdate: 1_700_003_600,
                    snapshot: 0,
                    revocationStamp: 0,
                    fullEntries: 0,
                    recent: [],
                    full: [],
                    delta: []
                )
            )
        }
        #expect(await watch.check() == ["crl.late"])
        #expect(await watch.check().isEmpty)

        // A stored OCSP answer past three quarters of its validity (4 days): signing ahead is behind,
        // reported when it starts and when it has caught up.
        let stale = OCSPResponseRecord(
            issuer: "long",
            serial: [1],
            hashAlgorithm: 1,
            der: [0x30, 0x00],
            thisUpdate: Int64(Date().timeIntervalSince1970) - 4 * 86_400,
            nextUpdate: Int64(Date().timeIntervalSince1970)
        )
        try await fixture.store.write { txn in try txn.save(stale) }
        #expect(await watch.check() == ["ocsp.backlog"])
        #expect(await watch.check().isEmpty)
        try await fixture.store.write { txn in _ = try txn.remove(OCSPResponseRecord.self, key: stale.primaryKey) }
        #expect(await watch.check() == ["ocsp.backlog-cleared"])

        // An entry changed behind the store's back: the chain breaks there, reported once.
        let stored = try await fixture.store.read { try $0.auditEntries(after: nil, limit: .max) }
        var tampered = try #require(stored.first { $0.event.action == "hsm.unavailable" })
        tampered.event.outcome = "success"
        let entry = tampered
        try await fixture.store.write { txn in
            try txn.copyRecord(AuditEntry.self, key: entry.primaryKey, value: entry.encoded())
        }
        // The watch checked that entry already; a fresh watch (a restart) walks the whole chain.
        let fresh = OperationsWatch(store: store, token: "watch-token", logger: Logger(label: "test")) { nil }
        #expect(await fresh.check() == ["audit.verification-failed"])
        #expect(await fresh.check().isEmpty)

        let entries = try await fixture.store.read { try $0.auditEntries(after: nil, limit: .max) }.map(\.event)
        let unavailable = try #require(entries.first { $0.action == "hsm.unavailable" })
        #expect(unavailable.object == "token/watch-token" && unavailable.outcome == "success", "the tampered entry")
        let broken = try #require(entries.first { $0.action == "audit.verification-failed" })
        #expect(
            broken.object == "audit/\(entry.sequence + 1)" && broken.outcome.contains("previous-hash does not match"),
            "\(broken)"
        )
        #expect(entries.first { $0.action == "ca.expiring" }?.object == "ca/short")
        #expect(entries.filter { $0.action == "ca.expiring" }.count == 1, "the long-lived CA is not near its end")
        #expect(entries.first { $0.action == "crl.late" }?.outcome.contains("CRL 7 was due") == true)
        // The rule's notifications were written with the entries: three events, one webhook each.
        let notifications = try await fixture.store.read { try $0.notifications(after: nil, limit: 100) }
        #expect(
            notifications.map(\.event).sorted() == ["crl.late", "hsm.recovered", "hsm.unavailable"],
            "\(notifications)"
        )
    }
}
