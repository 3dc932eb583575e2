import WorkerThreads

/// What services need from the metadata store, independent of where it lives: typed records with
/// secondary indexes, atomic and durable multi-record writes that carry their audit entries, and audit
/// verification. LMDB (`LMDBBackend`) is the embedded implementation; a clustered deployment can add
/// another (PostgreSQL: a table per record type keyed by the key bytes, which sort the same way as
/// `bytea`) without changing the services.
public protocol MetadataBackend: Sendable {
    /// Reads from one consistent snapshot. `body` runs where the backend can block (LMDB: on the
    /// caller's thread, reads never block; PostgreSQL: on one of its reader threads), so it must not
    /// wait on anything but the reader it is given.
    func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T) async throws -> T

    /// Runs `body` atomically; returns once its changes (and audit entries) are durable. If `body`
    /// throws, none of its changes are kept. `body` may run more than once (a group retried, a
    /// serialization failure) and must have no effect outside the transaction.
    func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws -> T

    /// `R`'s change stamp as this process knows it, as cheaply as the backend can answer: LMDB reads it;
    /// PostgreSQL answers from memory (this node's writes at once, other nodes' within its stated bound).
    /// Caches compare it with the stamp they were filled at.
    func knownChangeStamp<R: StoredRecord>(_ type: R.Type) async throws -> UInt64

    /// Runs `body` at once if a read here never waits (LMDB), for callers that must not suspend (an
    /// event loop's fast path); nil from a backend whose reads wait on the network (PostgreSQL), whose
    /// callers then take their async path.
    func readWithoutWaiting<T>(_ body: (any MetadataReading) throws -> T) throws -> T?

    /// A short description for logs and `store verify` ("LMDB at …", "PostgreSQL at host:port/db").
    var location: String { get }
    /// The directory the store's files live in, when it keeps them on this host (LMDB); nil otherwise.
    var directory: String? { get }

    /// Whether every write fails (`StoreError.readOnly`): a PostgreSQL streaming replica. Services that
    /// write on the side (keeping a signed OCSP answer) skip it; a node that must write refuses to start.
    var isReadOnly: Bool { get }
}

extension MetadataBackend {
    public var isReadOnly: Bool { false }

    /// `read` for a long pass (seconds: every certificate of a large store). LMDB runs reads on the
    /// caller's thread, so the pass runs on a thread of its own, holding none of the cooperative pool's
    /// threads; a backend whose reads run on its own threads reads as usual.
    public func scan<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T) async throws -> T {
        let backend = self
        let result = try await runOnDedicatedThread(name: "custos-store-scan") { try backend.readWithoutWaiting(body) }
        if let result { return result }
        return try await read(body)
    }
}

/// Reads within one snapshot.
public protocol MetadataReading {
    func record<R: StoredRecord>(_ type: R.Type, key: Key) throws -> R?
    /// Records in primary-key order after `after` (exclusive).
    func records<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [R]
    /// Stored keys and values as they are, undecoded, in primary-key order after `after` (exclusive): for
    /// verification and copying a store.
    func rawRecords<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [(key: Key, value: [UInt8])]
    /// Index entries as stored (their key and the primary key they point at), in key order after `after`
    /// (exclusive): for verification and copying a store.
    func rawIndexEntries(after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], target: [UInt8])]
    /// Primary keys whose `index` entry equals `value`.
    func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int) throws -> [Key]
    /// Primary keys whose `index` entry lies in `lower ..< upper`, in index order.
    func keys<R: StoredRecord>(_ type: R.Type, index: String, from lower: Key, to upper: Key, limit: Int) throws
        -> [Key]
    /// How many writes have changed `R`'s table (for a type that `tracksChanges`; 0 for others): equal
    /// stamps in two snapshots mean the table is the same in both.
    func changeStamp<R: StoredRecord>(_ type: R.Type) throws -> UInt64
    /// The audit chain's head (its last entry's sequence and hash); nil for an empty log.
    func auditHead() throws -> (sequence: UInt64, hash: [UInt8])?
    /// Nanoseconds since 1970 by the store's clock: this host's for LMDB (one host), the database
    /// server's for PostgreSQL (one clock for every node, for leases).
    func clock() throws -> Int64
}

/// Changes within one atomic write.
public protocol MetadataWriting: MetadataReading {
    func save<R: StoredRecord>(_ record: R) throws
    @discardableResult func remove<R: StoredRecord>(_ type: R.Type, key: Key) throws -> Bool
    /// Appends an audit entry that commits together with the other changes.
    @discardableResult func appendAudit(_ event: AuditEvent) throws -> AuditEntry

    // Copying a whole store (`StoreCopy`): bytes exactly as the source's `rawRecords`,
    // `rawIndexEntries`, `auditHead` and `changeStamp` give them, neither decoded nor counted.
    func copyRecord<R: StoredRecord>(_ type: R.Type, key: Key, value: [UInt8]) throws
    func copyIndexEntry(key: [UInt8], target: [UInt8]) throws
    func copyAuditHead(sequence: UInt64, hash: [UInt8]) throws
    func copyChangeStamp<R: StoredRecord>(_ type: R.Type, _ stamp: UInt64) throws
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

    /// Runs `body` on the caller's thread: an LMDB read never blocks (no await, no thread hop).
    public func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T) async throws -> T {
        try schema.environment.read { try body(LMDBReading(transaction: $0, schema: schema)) }
    }

    public func readWithoutWaiting<T>(_ body: (any MetadataReading) throws -> T) throws -> T? {
        try schema.environment.read { try body(LMDBReading(transaction: $0, schema: schema)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws -> T {
        let schema = self.schema
        return try await writer.write { try body(LMDBWriting(transaction: $0, schema: schema)) }
    }

    public func knownChangeStamp<R: StoredRecord>(_ type: R.Type) async throws -> UInt64 {
        try schema.environment.read { try $0.changeStamp(R.self, in: schema) }
    }

    public var location: String { "LMDB at \(schema.environment.path)" }
    public var directory: String? { schema.environment.path }
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

    func rawRecords<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [(key: Key, value: [UInt8])] {
        let start = after.map { $0.bytes + [0] } ?? []
        return try transaction.scan(try schema.table(R.self), from: start, limit: limit).map {
            (Key(bytes: $0.key), $0.value)
        }
    }

    func rawIndexEntries(after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], target: [UInt8])] {
        try transaction.scan(schema.index, from: after.map { $0 + [0] } ?? [], limit: limit).map { ($0.key, $0.value) }
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

    func auditHead() throws -> (sequence: UInt64, hash: [UInt8])? { try schema.auditHead(in: transaction) }

    func clock() throws -> Int64 { StoreLease.now() }
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

    func rawRecords<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [(key: Key, value: [UInt8])] {
        try reading.rawRecords(R.self, after: after, limit: limit)
    }

    func rawIndexEntries(after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], target: [UInt8])] {
        try reading.rawIndexEntries(after: after, limit: limit)
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

    func auditHead() throws -> (sequence: UInt64, hash: [UInt8])? { try reading.auditHead() }

    func clock() throws -> Int64 { try reading.clock() }

    func save<R: StoredRecord>(_ record: R) throws { try transaction.save(record, in: schema) }

    func remove<R: StoredRecord>(_ type: R.Type, key: Key) throws -> Bool {
        try transaction.remove(R.self, key: key, in: schema)
    }

    func appendAudit(_ event: AuditEvent) throws -> AuditEntry { try transaction.appendAudit(event, in: schema) }

    func copyRecord<R: StoredRecord>(_ type: R.Type, key: Key, value: [UInt8]) throws {
        try transaction.put(try schema.table(R.self), key.bytes, value)
    }

    func copyIndexEntry(key: [UInt8], target: [UInt8]) throws { try transaction.put(schema.index, key, target) }

    func copyAuditHead(sequence: UInt64, hash: [UInt8]) throws {
        try transaction.put(schema.meta, Schema.auditHeadKey, Schema.encodedAuditHead(sequence: sequence, hash: hash))
    }

    func copyChangeStamp<R: StoredRecord>(_ type: R.Type, _ stamp: UInt64) throws {
        try transaction.put(schema.meta, Schema.changeStampKey(R.table), Key().appending(stamp).bytes)
    }
}
