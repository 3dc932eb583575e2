import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// Every record type round-trips, and every one of its index entries finds it until it is removed.
@Suite struct RecordTypeTests {
    static let hash = [UInt8](repeating: 0xAB, count: 32)

    func check<R: StoredRecord & Equatable>(_ record: R) async throws {
        let (schema, writer) = try await makeSchema()
        try await writer.write { try $0.save(record, in: schema) }
        let environment = schema.environment
        #expect(try environment.read { try $0.record(R.self, key: record.primaryKey, in: schema) } == record)
        #expect(try R.decode(record.encoded()) == record)
        for entry in record.indexEntries {
            let found = try environment.read { try $0.keys(R.self, index: entry.index, value: entry.value, in: schema) }
            #expect(found == [record.primaryKey], "\(R.table) index \(entry.index)")
        }
        #expect(try schema.verifyIndexes(CustosStore.recordTypes).problems.isEmpty)
        try await writer.write { try $0.remove(R.self, key: record.primaryKey, in: schema) }
        for entry in record.indexEntries {
            let found = try environment.read { try $0.keys(R.self, index: entry.index, value: entry.value, in: schema) }
            #expect(found.isEmpty, "\(R.table) index \(entry.index) after removal")
        }
    }

    @Test func keyRecord() async throws {
        try await check(
            KeyRecord(
                name: "k",
                token: "t",
                label: "l",
                id: [1],
                algorithm: "ed25519",
                publicKey: [0x30],
                usage: ["sign", "verify"],
                state: .retired,
                created: -1
            )
        )
    }

    @Test func caRecord() async throws {
        try await check(
            CARecord(
                id: "issuing-1",
                tenant: "acme",
                kind: .intermediate,
                state: .active,
                subject: "CN=Issuing 1,O=Acme",
                parent: "root-1",
                keyName: "issuing-1-key",
                certificate: [0x30, 0x82],
                created: 5
            )
        )
        try await check(
            CARecord(
                id: "pending",
                tenant: "acme",
                kind: .externalSubordinate,
                state: .pending,
                subject: "CN=P",
                parent: nil,
                keyName: "p-key",
                certificate: nil,
                created: 6
            )
        )
    }

    @Test func certificateRecord() async throws {
        try await check(certificate(7, notAfter: 99, batch: "QA-failed"))
    }

    @Test func revocationRecord() async throws {
        try await check(
            RevocationRecord(issuer: "issuing-1", serial: [0x7F, 1], revokedAt: 10, reason: 1, invalidityDate: 8)
        )
        try await check(
            RevocationRecord(issuer: "issuing-1", serial: [2], revokedAt: 11, reason: 0, invalidityDate: nil)
        )
    }

    @Test func undefinedCRLReasonsAreRejected() throws {
        var record = RevocationRecord(issuer: "c", serial: [1], revokedAt: 0, reason: 7, invalidityDate: nil)
        #expect(throws: StoreError.self) { try RevocationRecord.decode(record.encoded()) }
        record.reason = 11
        #expect(throws: StoreError.self) { try RevocationRecord.decode(record.encoded()) }
    }

    @Test func crlNumberRecord() async throws {
        try await check(CRLNumberRecord(issuer: "issuing-1", number: 42, thisUpdate: 1, nextUpdate: 2))
    }

    @Test func crlRecord() async throws {
        let record = CRLRecord(
            scope: "issuing-1.2",
            number: 7,
            thisUpdate: 100,
            fullNextUpdate: 200,
            deltaNextUpdate: 150,
            snapshot: -5,
            revocationStamp: 3,
            fullEntries: 2,
            recent: [.init(serial: [1, 2], revokedAt: 90), .init(serial: [3], revokedAt: -1)],
            full: [0x30, 0x00],
            delta: [0x30, 0x01, 0x00]
        )
        try await check(record)
        // A count of recent revocations larger than the bytes left is a broken record, not an allocation.
        var writer = RecordWriter(formatVersion: 1)
        writer.write("s")
        for _ in 0..<7 { writer.write(UInt64(1)) }
        writer.write(UInt64.max)
        #expect(throws: StoreError.self) { try CRLRecord.decode(writer.bytes) }
    }

    @Test func reportSnapshotRecord() async throws {
        try await check(ReportSnapshotRecord(name: "dashboard", counted: 5, document: Array("{}".utf8)))
    }

    @Test func actionRecord() async throws {
        try await check(
            ActionRecord(name: "qa-failed-batch", tenant: "default", document: Array("{}".utf8), updated: 9)
        )
    }

    @Test func notificationRecords() async throws {
        try await check(NotificationChannelRecord(name: "ops", tenant: "acme", document: Array("{}".utf8), updated: 1))
        try await check(NotificationChannelRecord(name: "all", tenant: nil, document: [], updated: 2))
        try await check(NotificationRuleRecord(name: "daily", tenant: nil, document: [1], updated: 3, lastRun: 4))
        try await check(NotificationRuleRecord(name: "events", tenant: "acme", document: [], updated: 5))
        let pending = NotificationRecord(
            id: "0a1b",
            rule: "daily",
            channel: "ops",
            tenant: "acme",
            recipient: "pki@example.com",
            event: "report",
            eventKey: "report/6",
            subject: "Report",
            payload: Array("{}".utf8),
            attachment: [1, 2],
            created: 6,
            attempts: 2,
            nextAttempt: 7,
            lastError: "HTTP 500"
        )
        try await check(pending)
        var delivered = pending
        delivered.id = "0a1c"
        delivered.state = .delivered
        delivered.delivered = 8
        delivered.attachment = nil
        delivered.tenant = nil
        try await check(delivered)
    }

    @Test func policyRecord() async throws {
        try await check(PolicyRecord(id: "tls", ca: "issuing-1", category: "tls-server", document: [1, 2], updated: 3))
        try await check(PolicyRecord(id: "shared", ca: nil, category: "device", document: [], updated: 4))
    }

    @Test func credentialRecord() async throws {
        try await check(
            CredentialRecord(
                id: "line-7",
                secretHash: Self.hash,
                role: .signer,
                keyPatterns: ["line-7-*"],
                tenant: "acme",
                created: 1,
                revoked: false,
                certificates: [String(repeating: "ab", count: 32)]
            )
        )
        // A version-1 record (before bound certificates) still reads, with none bound.
        var old = RecordWriter(formatVersion: 1)
        old.write("v1")
        old.write(Self.hash)
        old.write("officer")
        old.write([String]())
        old.write(String?.none)
        old.write(Int64(5))
        old.write(false)
        let upgraded = try CredentialRecord.decode(old.bytes)
        #expect(upgraded.id == "v1" && upgraded.role == .officer && upgraded.certificates.isEmpty)
        // Only a hash fits: anything else is refused when read back.
        var wrong = CredentialRecord(
            id: "x",
            secretHash: [1, 2, 3],
            role: .admin,
            keyPatterns: [],
            tenant: nil,
            created: 0,
            revoked: true
        )
        #expect(throws: StoreError.self) { try CredentialRecord.decode(wrong.encoded()) }
        wrong.secretHash = Self.hash
        #expect(try CredentialRecord.decode(wrong.encoded()) == wrong)
    }

    @Test func vaultEntryRecord() async throws {
        try await check(
            VaultEntryRecord(
                namespace: "factory",
                path: "devices/42/psk",
                version: 3,
                ciphertext: [9, 9, 9],
                iv: [0, 1, 2],
                tag: [7],
                kekVersion: 2,
                metadata: ["owner": "line 7"],
                state: .archived,
                created: 12
            )
        )
    }

    @Test func ocspResponseRecord() async throws {
        try await check(
            OCSPResponseRecord(
                issuer: "issuing-1",
                serial: [0x7F, 2],
                hashAlgorithm: 2,
                der: [0x30],
                thisUpdate: 5,
                nextUpdate: 9
            )
        )
    }

    @Test func ocspSignerRecord() async throws {
        let record = OCSPSignerRecord(
            ca: "issuing-1",
            generation: 3,
            keyName: "custos-ocsp-issuing-1-g3",
            caKeyName: "custos-ca-issuing-1",
            certificate: [0x30, 0x82],
            notBefore: 10,
            notAfter: 20,
            retired: [
                .init(keyName: "custos-ocsp-issuing-1-g1", notAfter: 12),
                .init(keyName: "custos-ocsp-issuing-1-g2", notAfter: -4),
            ]
        )
        try await check(record)
        var none = record
        none.retired = []
        #expect(try OCSPSignerRecord.decode(none.encoded()) == none)
    }

    @Test func unknownEnumValuesAreClearErrors() throws {
        var bytes = CARecord(
            id: "a",
            tenant: "t",
            kind: .root,
            state: .active,
            subject: "CN=a",
            parent: nil,
            keyName: nil,
            certificate: nil,
            created: 0
        ).encoded()
        // "root" becomes "ront": not a kind this build knows.
        let index = bytes.firstIndex(of: UInt8(ascii: "o"))!
        bytes[index + 1] = UInt8(ascii: "n")
        do {
            _ = try CARecord.decode(bytes)
            Issue.record("decoded an unknown kind")
        } catch {
            #expect(error.description.contains("unknown Kind"), "\(error)")
        }
    }
}
