import CustosTestSupport
import Foundation
import MetadataStore
import Testing

@Suite struct RecordTests {
    @Test func keyRecordsRoundTripAndAreFoundByTokenLabelAndState() async throws {
        let (schema, writer) = try await makeSchema()
        let record = KeyRecord(
            name: "line-7",
            token: "custos-dev",
            label: "line-7",
            id: [1, 2, 3],
            algorithm: "ec-p256",
            publicKey: [0x30, 0x59],
            usage: ["sign"],
            state: .active,
            created: 1_700_000_000_000_000_000
        )
        try await writer.write { try $0.save(record, in: schema) }
        let read = try schema.environment.read { try $0.record(KeyRecord.self, key: record.primaryKey, in: schema) }
        #expect(read == record)
        let byLabel = try schema.environment.read {
            try $0.records(
                KeyRecord.self,
                index: "token-label",
                value: Key().appending("custos-dev").appending("line-7"),
                in: schema
            )
        }
        #expect(byLabel == [record])
        // Changing the state moves the index entry.
        var changed = record
        changed.state = .disabled
        let disabled = changed
        try await writer.write { try $0.save(disabled, in: schema) }
        let active = try schema.environment.read {
            try $0.keys(KeyRecord.self, index: "state", value: Key().appending("active"), in: schema)
        }
        let stillDisabled = try schema.environment.read {
            try $0.records(KeyRecord.self, index: "state", value: Key().appending("disabled"), in: schema)
        }
        #expect(active.isEmpty)
        #expect(stillDisabled == [disabled])
    }

    @Test func certificatesAreFoundByEveryIndex() async throws {
        let (schema, writer) = try await makeSchema()
        let records = (1...20).map {
            certificate(UInt8($0), notAfter: Int64($0) * 1000, batch: $0 % 2 == 0 ? "B-even" : "B-odd")
        }
        try await writer.write { txn in for record in records { try txn.save(record, in: schema) } }
        try schema.environment.read { (txn) throws in
            var serial = Key()
            serial.append(bytes: [0x01, 5])
            #expect(try txn.records(CertificateRecord.self, index: "serial", value: serial, in: schema) == [records[4]])
            // A CA's certificates are a range of primary keys, not an index.
            let ca = Key().appending("ca-1")
            let ofCA = try txn.records(CertificateRecord.self, after: ca, limit: 100, in: schema)
            #expect(ofCA.count == 20 && ofCA.allSatisfy { $0.primaryKey.bytes.starts(with: ca.bytes) })
            #expect(try txn.keys(CertificateRecord.self, index: "issuer", value: ca, in: schema).isEmpty)
            let even = try txn.records(
                CertificateRecord.self,
                index: "metadata",
                value: Key().appending("batch").appending("B-even"),
                in: schema
            )
            #expect(even.count == 10)
            #expect(even.allSatisfy { $0.metadata["batch"] == "B-even" })
            // Expiry report: not-after in [5000, 10000).
            let expiring = try txn.keys(
                CertificateRecord.self,
                index: "not-after",
                from: Key().appending(Int64(5000)),
                to: Key().appending(Int64(10000)),
                in: schema
            )
            #expect(expiring == (5...9).map { records[$0 - 1].primaryKey })
            // Revoked certificates by status; valid ones, subjects and categories are not indexed
            // (searches for them scan).
            let revoked = try txn.keys(
                CertificateRecord.self,
                index: "status",
                value: Key().appending("revoked"),
                in: schema
            )
            #expect(revoked == records.filter { $0.status == .revoked }.map(\.primaryKey) && revoked.count == 4)
            let subject = try txn.keys(
                CertificateRecord.self,
                index: "subject",
                value: Key().appending("CN=device-3,O=Factory"),
                in: schema
            )
            #expect(subject.isEmpty)
        }
    }

    @Test func removingARecordRemovesItsIndexEntries() async throws {
        let (schema, writer) = try await makeSchema()
        let record = certificate(9, notAfter: 1, batch: "gone")
        try await writer.write { try $0.save(record, in: schema) }
        let removed = try await writer.write {
            try $0.remove(CertificateRecord.self, key: record.primaryKey, in: schema)
        }
        #expect(removed)
        try schema.environment.read { (txn) throws in
            #expect(try txn.record(CertificateRecord.self, key: record.primaryKey, in: schema) == nil)
            #expect(
                try txn.keys(
                    CertificateRecord.self,
                    index: "metadata",
                    value: Key().appending("batch").appending("gone"),
                    in: schema
                ).isEmpty
            )
        }
    }

    @Test func recordsPageInPrimaryKeyOrder() async throws {
        let (schema, writer) = try await makeSchema()
        let records = (1...25).map { certificate(UInt8($0), notAfter: 0, batch: "p") }
        try await writer.write { txn in for record in records.shuffled() { try txn.save(record, in: schema) } }
        var seen: [CertificateRecord] = []
        var after: Key?
        while true {
            let page = try schema.environment.read {
                try $0.records(CertificateRecord.self, after: after, limit: 10, in: schema)
            }
            seen += page
            guard page.count == 10 else { break }
            after = page.last?.primaryKey
        }
        #expect(seen == records)
    }

    @Test func recordEncodingIsVersionedAndChecked() throws {
        let record = certificate(1, notAfter: -5, batch: "x")
        let bytes = record.encoded()
        #expect(bytes.first == 2)
        #expect(try CertificateRecord.decode(bytes) == record)
        // A version-1 record (before category, SANs and status) still reads, with their defaults.
        var old = RecordWriter(formatVersion: 1)
        old.write(record.issuer)
        old.write(record.serial)
        old.write(record.subject)
        old.write(record.notBefore)
        old.write(record.notAfter)
        old.write(record.der)
        old.write(record.metadata)
        let upgraded = try CertificateRecord.decode(old.bytes)
        #expect(upgraded.metadata == record.metadata && upgraded.der == record.der)
        #expect(upgraded.category == "" && upgraded.alternativeNames.isEmpty && upgraded.status == .valid)
        #expect(throws: StoreError.self) { try CertificateRecord.decode([9] + bytes.dropFirst()) }
        #expect(throws: StoreError.self) { try CertificateRecord.decode(Array(bytes.prefix(bytes.count / 2))) }
        #expect(throws: StoreError.self) { try CertificateRecord.decode([]) }
    }

    @Test func schemaVersionIsStoredAndMigrationsRunOnce() async throws {
        let path = try makeTemporaryDirectory("migrate")
        let ran = MigrationCounter()
        let migration = Schema.Migration(version: 1) { txn, schema in
            ran.increment()
            try txn.save(certificate(42, notAfter: 0, batch: "migrated"), in: schema)
        }
        do {
            let (schema, writer) = try await makeSchema(migrations: [migration], path: path)
            #expect(try schema.storedVersion() == Schema.currentVersion)
            writer.shutdown()
        }
        let (schema, _) = try await makeSchema(migrations: [migration], path: path)
        #expect(ran.value == 1)
        #expect(
            try schema.environment.read { try $0.count(try $0.database(for: CertificateRecord.self, in: schema)) } == 1
        )
    }
}

/// Schema 2: certificates keep only the index entries searches use; a store written by schema 1 is
/// re-indexed when it is opened.
@Suite struct CertificateIndexMigrationTests {
    @Test func schemaOneEntriesAreRemovedAndTheRestKept() async throws {
        let path = try makeTemporaryDirectory("reindex")
        let records = (1...12).map { certificate(UInt8($0), notAfter: Int64($0) * 1_000, batch: "b\($0 % 3)") }
        do {
            let (schema, writer) = try await makeSchema(migrations: CustosStore.migrations, path: path)
            try await writer.write { txn in
                for record in records { try txn.save(record, in: schema) }
                // What schema 1 also wrote for each certificate.
                let index = try schema.environment.database("index")
                let meta = try schema.environment.database("meta")
                for record in records {
                    for (name, value) in [
                        ("subject", Key().appending(record.subject)), ("category", Key().appending(record.category)),
                        ("issuer", Key().appending(record.issuer)),
                    ] + (record.status == .valid ? [("status", Key().appending("valid"))] : []) {
                        let key =
                            Key().appending(CertificateRecord.table).appending(name).bytes + value.bytes
                            + record.primaryKey.bytes
                        try txn.put(index, key, record.primaryKey.bytes)
                    }
                }
                try txn.put(meta, Key().appending("schema-version").bytes, Key().appending(UInt64(1)).bytes)
            }
            let before = try schema.verifyIndexes(CustosStore.recordTypes)
            #expect(before.problems.contains { $0.contains("has no record") })
            writer.shutdown()
        }
        let (schema, _) = try await makeSchema(migrations: CustosStore.migrations, path: path)
        #expect(try schema.storedVersion() == Schema.currentVersion)
        let after = try schema.verifyIndexes(CustosStore.recordTypes)
        #expect(after.problems == [])
        #expect(after.records == records.count)
        try schema.environment.read { txn in
            for record in records {
                var serial = Key()
                serial.append(bytes: record.serial)
                #expect(try txn.records(CertificateRecord.self, index: "serial", value: serial, in: schema) == [record])
            }
            let revoked = try txn.keys(
                CertificateRecord.self,
                index: "status",
                value: Key().appending("revoked"),
                in: schema
            )
            #expect(revoked == records.filter { $0.status == .revoked }.map(\.primaryKey))
            #expect(
                try txn.keys(CertificateRecord.self, index: "issuer", value: Key().appending("ca-1"), in: schema)
                    .isEmpty
            )
        }
    }
}

final class MigrationCounter: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
