/// What services need from the metadata store, independent of where it lives: typed records with
/// secondary indexes, atomic and durable multi-record writes that carry their audit entries, and audit
/// verification. LMDB (`LMDBBackend`) is the embedded implementation; a clustered deployment can add
/// another (PostgreSQL: a table per record type keyed by the key bytes, which sort the same way as
/// `bytea`) without changing the services.
public protocol MetadataBackend: Sendable {
    /// Reads from one consistent snapshot.
    func read<T>(_ body: (any MetadataReading) throws -> T) throws -> T

    /// Runs `body` atomically; returns once its changes (and audit entries) are durable. If `body`
    /// throws, none of its changes are kept.
    func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws -> T

    /// Walks the audit chain.
    func verifyAudit() throws -> AuditVerification

    /// Walks the audit chain and its signed checkpoints.
    func verifyAudit(checkpoints: (AuditCheckpoint) -> Bool) throws -> (AuditVerification, checkpoints: Int)

    /// The audit chain's head.
    func auditHead() throws -> (sequence: UInt64, hash: [UInt8])?
}

/// Reads within one snapshot.
public protocol MetadataReading {
    func record<R: StoredRecord>(_ type: R.Type, key: Key) throws -> R?
    /// Records in primary-key order after `after` (exclusive).
    func records<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [R]
    /// Primary keys whose `index` entry equals `value`.
    func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int) throws -> [Key]
    /// Primary keys whose `index` entry lies in `lower ..< upper`, in index order.
    func keys<R: StoredRecord>(_ type: R.Type, index: String, from lower: Key, to upper: Key, limit: Int) throws
        -> [Key]
    /// How many writes have changed `R`'s table (for a type that `tracksChanges`; 0 for others): equal
    /// stamps in two snapshots mean the table is the same in both.
    func changeStamp<R: StoredRecord>(_ type: R.Type) throws -> UInt64
}

/// Changes within one atomic write.
public protocol MetadataWriting: MetadataReading {
    func save<R: StoredRecord>(_ record: R) throws
    @discardableResult func remove<R: StoredRecord>(_ type: R.Type, key: Key) throws -> Bool
    /// Appends an audit entry that commits together with the other changes.
    @discardableResult func appendAudit(_ event: AuditEvent) throws -> AuditEntry
}

extension MetadataReading {
    /// Records whose `index` entry equals `value`.
    public func records<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int = .max) throws -> [R] {
        try keys(R.self, index: index, value: value, limit: limit).compactMap { try record(R.self, key: $0) }
    }
}

/// The metadata store on LMDB.
public struct LMDBBackend: MetadataBackend {
    public let schema: Schema
    public let writer: StoreWriter

    public init(schema: Schema, writer: StoreWriter) {
        self.schema = schema
        self.writer = writer
    }

    public func read<T>(_ body: (any MetadataReading) throws -> T) throws -> T {
        try schema.environment.read { try body(LMDBReading(transaction: $0, schema: schema)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws -> T {
        let schema = self.schema
        return try await writer.write { try body(LMDBWriting(transaction: $0, schema: schema)) }
    }

    public func verifyAudit() throws -> AuditVerification { try schema.verifyAudit() }

    public func verifyAudit(checkpoints: (AuditCheckpoint) -> Bool) throws -> (AuditVerification, checkpoints: Int) {
        try schema.verifyAudit(checkpoints: checkpoints)
    }

    public func auditHead() throws -> (sequence: UInt64, hash: [UInt8])? { try schema.auditHead() }
}

struct LMDBReading: MetadataReading {
    let transaction: ReadTransaction
    let schema: Schema

    func record<R: StoredRecord>(_ type: R.Type, key: Key) throws -> R? {
        try transaction.record(R.self, key: key, in: schema)
    }

    func records<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [R] {
        try transaction.records(R.self, after: after, limit: limit, in: schema)
    }

    func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int) throws -> [Key] {
        try transaction.keys(R.self, index: index, value: value, limit: limit, in: schema)
    }

    func keys<R: StoredRecord>(_ type: R.Type, index: String, from lower: Key, to upper: Key, limit: Int) throws
        -> [Key]
    {
        try transaction.keys(R.self, index: index, from: lower, to: upper, limit: limit, in: schema)
    }

    func changeStamp<R: StoredRecord>(_ type: R.Type) throws -> UInt64 {
        try transaction.changeStamp(R.self, in: schema)
    }
}

struct LMDBWriting: MetadataWriting {
    let transaction: WriteTransaction
    let schema: Schema
    private var reading: LMDBReading { LMDBReading(transaction: transaction, schema: schema) }

    init(transaction: WriteTransaction, schema: Schema) {
        self.transaction = transaction
        self.schema = schema
    }

    func record<R: StoredRecord>(_ type: R.Type, key: Key) throws -> R? { try reading.record(R.self, key: key) }

    func records<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [R] {
        try reading.records(R.self, after: after, limit: limit)
    }

    func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int) throws -> [Key] {
        try reading.keys(R.self, index: index, value: value, limit: limit)
    }

    func keys<R: StoredRecord>(_ type: R.Type, index: String, from lower: Key, to upper: Key, limit: Int) throws
        -> [Key]
    {
        try reading.keys(R.self, index: index, from: lower, to: upper, limit: limit)
    }

    func changeStamp<R: StoredRecord>(_ type: R.Type) throws -> UInt64 { try reading.changeStamp(R.self) }

    func save<R: StoredRecord>(_ record: R) throws { try transaction.save(record, in: schema) }

    func remove<R: StoredRecord>(_ type: R.Type, key: Key) throws -> Bool {
        try transaction.remove(R.self, key: key, in: schema)
    }

    func appendAudit(_ event: AuditEvent) throws -> AuditEntry { try transaction.appendAudit(event, in: schema) }
}
