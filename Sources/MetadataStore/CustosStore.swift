/// Custos' store in a data directory: `<data>/store`, with every record type Custos keeps.
public enum CustosStore {
    /// The record types of the current schema.
    public static let recordTypes: [any StoredRecord.Type] = [
        KeyRecord.self, CARecord.self, CertificateRecord.self, RevocationRecord.self, CRLNumberRecord.self,
        PolicyRecord.self, CredentialRecord.self, VaultEntryRecord.self, OCSPResponseRecord.self,
        OCSPSignerRecord.self, VaultNamespaceRecord.self, LeaseRecord.self, EnrollmentProfileRecord.self,
        EnrollmentSecretRecord.self, EnrollmentRequestRecord.self, RegistrationAuthorityRecord.self,
        ACMENonceRecord.self,
        ACMEAccountRecord.self, ACMEOrderRecord.self, ACMEAuthorizationRecord.self, ACMEExternalKeyRecord.self,
        CMPTransactionRecord.self, CRLRecord.self, ConsoleSessionRecord.self, PortalSessionRecord.self,
        ReportSnapshotRecord.self, NotificationChannelRecord.self, NotificationRuleRecord.self, NotificationRecord.self,
        ActionRecord.self,
    ]

    /// The steps from older schema versions to the current one.
    public static let migrations: [Schema.Migration] = [
        // 2: certificates no longer index subject and category (nothing looks them up), their issuer (a
        // range of primary keys) nor the status of valid ones (only revoked ones are looked up): fewer
        // B-tree pages written per issuance.
        Schema.Migration(version: 2) { txn, schema in try txn.reindex(CertificateRecord.self, in: schema) },
        // 3: CAs, policies and credentials keep change stamps (readers cache them). Nothing to convert (a
        // missing stamp reads as 0); the version keeps builds that do not count changes from writing.
        Schema.Migration(version: 3) { _, _ in },
        // 4: the leases table (processes sharing a store take turns at background jobs such as signing
        // OCSP responses ahead). Nothing to convert; the version keeps builds that ignore leases out.
        Schema.Migration(version: 4) { _, _ in },
        // 5: enrollment profiles, their secrets and the requests waiting for approval (new tables). Nothing
        // to convert.
        Schema.Migration(version: 5) { _, _ in },
        // 6: SCEP registration authorities (a new table). Nothing to convert.
        Schema.Migration(version: 6) { _, _ in },
        // 7: ACME nonces, accounts, orders and authorizations (new tables). Nothing to convert.
        Schema.Migration(version: 7) { _, _ in },
        // 8: ACME external account keys (a new table). Nothing to convert.
        Schema.Migration(version: 8) { _, _ in },
        // 9: CMP transactions (a new table); enrollment secrets of format 2 may carry a sealed value (older
        // builds cannot read them). Nothing to convert.
        Schema.Migration(version: 9) { _, _ in },
        // 10: CA records of format 3 may be upstream CAs with their link, enrollment requests of format 2 may
        // wait for an upstream CA (older builds cannot read them). Nothing to convert.
        Schema.Migration(version: 10) { _, _ in },
        // 11: the newest CRLs of each scope are stored (a new table), and revocations and keys keep change
        // stamps (nodes on a shared store learn of each other's revocations, CRLs and key states). Nothing to convert; on
        // PostgreSQL the new table is made at open (`PostgresTables.prepare`).
        Schema.Migration(version: 11) { _, _ in },
        // 12: web-console sessions (a new table). Nothing to convert.
        Schema.Migration(version: 12) { _, _ in },
        // 13: self-service portal sessions (a new table); enrollment profiles may offer the portal (older
        // builds cannot read those). Nothing to convert.
        Schema.Migration(version: 13) { _, _ in },
        // 14: kept reports (a new table); credentials may have client certificates bound (record version 2)
        // and profiles may offer the console (older builds cannot read those). Nothing to convert.
        Schema.Migration(version: 14) { _, _ in },
        // 15: notification channels, rules and the outbox (new tables). Nothing to convert.
        Schema.Migration(version: 15) { _, _ in },
        // 16: triggered actions (a new table); credentials may have the trigger role (older builds cannot
        // read those). Nothing to convert.
        Schema.Migration(version: 16) { _, _ in },
    ]

    /// The store directory inside a data directory.
    public static func path(dataDirectory: String) -> String { dataDirectory + "/store" }

    /// Opens (creating and migrating as needed) the store of a data directory and starts its writer.
    /// Blocking LMDB work at open happens on the caller's thread: call this at start-up.
    public static func open(
        dataDirectory: String,
        mapSize: Int = 1 << 30,
        auditSink: (@Sendable ([AuditEntry]) -> Void)? = nil
    ) async throws -> (Schema, StoreWriter) {
        let environment = try Environment(
            .init(
                path: path(dataDirectory: dataDirectory),
                mapSize: mapSize,
                databases: Schema.databases(for: recordTypes)
            )
        )
        let writer = StoreWriter(environment: environment, auditSink: auditSink)
        return (try await Schema.open(environment, writer: writer, types: recordTypes, migrations: migrations), writer)
    }
}
