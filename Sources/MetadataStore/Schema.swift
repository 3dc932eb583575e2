/// The store's layout on one environment: a table per record type, one index database holding every
/// secondary index (keys: table, index name, value, primary key), and a meta database (schema version,
/// audit head). Opening runs the migrations from the stored schema version to the current one.
public struct Schema: Sendable {
    /// The schema version this build writes.
    public static let currentVersion: UInt64 = 16

    /// A migration takes the store from `version - 1` to `version`.
    public struct Migration: Sendable {
        public var version: UInt64
        public var apply: @Sendable (WriteTransaction, Schema) throws -> Void
        public init(version: UInt64, apply: @escaping @Sendable (WriteTransaction, Schema) throws -> Void) {
            self.version = version
            self.apply = apply
        }
    }

    public let environment: Environment
    let index: Database
    let meta: Database
    private let tables: [String: Database]

    /// The databases a schema with these record types needs.
    public static func databases(for types: [any StoredRecord.Type]) -> [String] {
        ["meta", "index", AuditEntry.table, AuditCheckpoint.table] + types.map { $0.table }
    }

    /// Binds the schema to an environment opened with `databases(for:)`, and migrates it.
    public static func open(
        _ environment: Environment,
        writer: StoreWriter,
        types: [any StoredRecord.Type],
        migrations: [Migration] = []
    ) async throws -> Schema {
        var tables: [String: Database] = [:]
        for type in types + [AuditEntry.self, AuditCheckpoint.self] {
            tables[type.table] = try environment.database(type.table)
        }
        let schema = Schema(
            environment: environment,
            index: try environment.database("index"),
            meta: try environment.database("meta"),
            tables: tables
        )
        try await schema.migrate(writer: writer, migrations: migrations)
        return schema
    }

    private init(environment: Environment, index: Database, meta: Database, tables: [String: Database]) {
        self.environment = environment
        self.index = index
        self.meta = meta
        self.tables = tables
    }

    func table<R: StoredRecord>(_ type: R.Type) throws(StoreError) -> Database {
        guard let database = tables[R.table] else {
            throw StoreError(code: .invalidData, reason: "record type \(R.table) is not part of this schema")
        }
        return database
    }

    static let versionKey = Key().appending("schema-version").bytes

    static func changeStampKey(_ table: String) -> [UInt8] { Key().appending("changes").appending(table).bytes }

    /// The schema version stored in the environment (0 for a new one).
    public func storedVersion() throws -> UInt64 {
        try environment.read { txn in
            guard let bytes = try txn.get(meta, Self.versionKey) else { return 0 }
            var reader = KeyReader(bytes)
            return try reader.readUInt64()
        }
    }

    private func migrate(writer: StoreWriter, migrations: [Migration]) async throws {
        let stored = try storedVersion()
        guard stored <= Self.currentVersion else {
            throw StoreError(
                code: .invalidData,
                reason: "the store has schema version \(stored), newer than this build's \(Self.currentVersion)"
            )
        }
        guard stored < Self.currentVersion else { return }
        let steps = migrations.filter { $0.version > stored && $0.version <= Self.currentVersion }
            .sorted { $0.version < $1.version }
        let schema = self
        // All steps and the new version commit together: a failed migration leaves the old store intact.
        try await writer.write { txn in
            for step in steps { try step.apply(txn, schema) }
            try txn.put(schema.meta, Self.versionKey, Key().appending(Self.currentVersion).bytes)
        }
    }

    /// An index entry's key: the table, the index name, the indexed value and the primary key (the same
    /// bytes in every backend, so that ranges compare alike).
    static func indexKey(_ table: String, _ entry: IndexEntry, primary: Key) -> [UInt8] {
        Key().appending(table).appending(entry.index).bytes + entry.value.bytes + primary.bytes
    }

    static func indexPrefix(_ table: String, _ index: String, _ value: Key) -> [UInt8] {
        Key().appending(table).appending(index).bytes + value.bytes
    }

    func indexKey(_ table: String, _ entry: IndexEntry, primary: Key) -> [UInt8] {
        Self.indexKey(table, entry, primary: primary)
    }

    func indexPrefix(_ table: String, _ index: String, _ value: Key) -> [UInt8] {
        Self.indexPrefix(table, index, value)
    }
}

extension WriteTransaction {
    /// Stores `record`, replacing the one with the same primary key, and updates its index entries.
    public func save<R: StoredRecord>(_ record: R, in schema: Schema) throws {
        let table = try schema.table(R.self)
        let key = record.primaryKey
        if let old = try get(table, key.bytes) {
            for entry in try R.decode(old).indexEntries {
                try delete(schema.index, schema.indexKey(R.table, entry, primary: key))
            }
        }
        try put(table, key.bytes, record.encoded())
        for entry in record.indexEntries {
            try put(schema.index, schema.indexKey(R.table, entry, primary: key), key.bytes)
        }
        try countChange(R.self, in: schema)
    }

    /// Counts up `R`'s change stamp, if it keeps one, in this transaction.
    func countChange<R: StoredRecord>(_ type: R.Type, in schema: Schema) throws(StoreError) {
        guard R.tracksChanges else { return }
        let next = try changeStamp(R.self, in: schema) &+ 1
        try put(schema.meta, Schema.changeStampKey(R.table), Key().appending(next).bytes)
    }

    /// Rewrites the index entries of every `R` to what its `indexEntries` says now: the migration for a
    /// record type whose set of index entries changed. Deletes in chunks, so memory stays bounded.
    public func reindex<R: StoredRecord>(_ type: R.Type, in schema: Schema) throws {
        let prefix = Key().appending(R.table).bytes
        var start = prefix
        while true {
            var keys: [[UInt8]] = []
            try forEach(schema.index, from: start) { key, _ in
                guard key.starts(with: prefix) else { return false }
                keys.append(key)
                return keys.count < 10_000
            }
            for key in keys { try delete(schema.index, key) }
            guard keys.count == 10_000, let last = keys.last else { break }
            start = last
        }
        try forEach(try schema.table(R.self), from: []) { (key, value) throws(StoreError) in
            let primary = Key(bytes: key)
            for entry in try R.decode(value).indexEntries {
                try put(schema.index, schema.indexKey(R.table, entry, primary: primary), key)
            }
            return true
        }
    }

    /// Removes the record with `key` and its index entries; returns whether it existed.
    @discardableResult
    public func remove<R: StoredRecord>(_ type: R.Type, key: Key, in schema: Schema) throws -> Bool {
        let table = try schema.table(R.self)
        guard let old = try get(table, key.bytes) else { return false }
        for entry in try R.decode(old).indexEntries {
            try delete(schema.index, schema.indexKey(R.table, entry, primary: key))
        }
        try countChange(R.self, in: schema)
        return try delete(table, key.bytes)
    }
}

extension ReadTransaction {
    /// `R`'s change stamp: how many writes have changed its table since the stamp was introduced (0 for
    /// a type that does not track changes).
    public func changeStamp<R: StoredRecord>(_ type: R.Type, in schema: Schema) throws(StoreError) -> UInt64 {
        guard R.tracksChanges, let bytes = try get(schema.meta, Schema.changeStampKey(R.table)) else { return 0 }
        var reader = KeyReader(bytes)
        return try reader.readUInt64()
    }

    /// The table of a record type (for counts and raw scans).
    public func database<R: StoredRecord>(for type: R.Type, in schema: Schema) throws -> Database {
        try schema.table(R.self)
    }

    /// The record with `key`.
    public func record<R: StoredRecord>(_ type: R.Type, key: Key, in schema: Schema) throws -> R? {
        try get(try schema.table(R.self), key.bytes).map { bytes throws(StoreError) in try R.decode(bytes) }
    }

    /// Records in primary-key order starting at `after` (exclusive), at most `limit`.
    public func records<R: StoredRecord>(_ type: R.Type, after: Key? = nil, limit: Int, in schema: Schema) throws -> [R]
    {
        let start = after.map { $0.bytes + [0] } ?? []
        return try scan(try schema.table(R.self), from: start, limit: limit).map { entry throws(StoreError) in
            try R.decode(entry.value)
        }
    }

    /// Primary keys of records whose `index` entry equals `value`, in primary-key order.
    public func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int = .max, in schema: Schema)
        throws -> [Key]
    {
        let prefix = schema.indexPrefix(R.table, index, value)
        return try indexScan(schema, from: prefix, to: Key(bytes: prefix).prefixEnd, limit: limit)
    }

    /// Primary keys of records whose `index` entry lies in `lower ..< upper`, in index order.
    public func keys<R: StoredRecord>(
        _ type: R.Type,
        index: String,
        from lower: Key,
        to upper: Key,
        limit: Int = .max,
        in schema: Schema
    ) throws -> [Key] {
        try indexScan(
            schema,
            from: schema.indexPrefix(R.table, index, lower),
            to: schema.indexPrefix(R.table, index, upper),
            limit: limit
        )
    }

    private func indexScan(_ schema: Schema, from lower: [UInt8], to upper: [UInt8]?, limit: Int) throws -> [Key] {
        // Each index entry's value is the record's primary key.
        try scan(schema.index, from: lower, to: upper, limit: limit).map { Key(bytes: $0.value) }
    }

    /// Records whose `index` entry equals `value`.
    public func records<R: StoredRecord>(
        _ type: R.Type,
        index: String,
        value: Key,
        limit: Int = .max,
        in schema: Schema
    )
        throws -> [R]
    {
        try keys(R.self, index: index, value: value, limit: limit, in: schema).compactMap {
            try record(R.self, key: $0, in: schema)
        }
    }
}

/// What `Schema.verifyIndexes` found.
public struct IndexVerification: Sendable, Hashable {
    /// Records read.
    public var records = 0
    /// Index entries read.
    public var indexEntries = 0
    /// Problems, one sentence each (at most 100 are listed).
    public var problems: [String] = []
}

extension MetadataReading {
    /// Checks that every record's index entries exist and point at it, and that every index entry belongs
    /// to a record that still has it. Reads in pages within this snapshot.
    public func verifyIndexes(_ types: [any StoredRecord.Type]) throws -> IndexVerification {
        let check = IndexCheck()
        for type in types + [AuditEntry.self] { try collect(type, check) }
        var after: [UInt8]?
        while true {
            let page = try rawIndexEntries(after: after, limit: 4096)
            for (key, target) in page {
                check.result.indexEntries += 1
                if check.expected[key] == nil {
                    check.note("index entry \(Key(bytes: key)) has no record")
                } else if check.expected[key] != target {
                    check.note("index entry \(Key(bytes: key)) points at another record")
                }
                check.found.insert(key)
            }
            guard page.count == 4096, let last = page.last else { break }
            after = last.key
        }
        for (key, target) in check.expected where !check.found.contains(key) {
            check.note("record \(Key(bytes: target)) lacks its index entry \(Key(bytes: key))")
        }
        return check.result
    }

    private func collect<R: StoredRecord>(_ type: R.Type, _ check: IndexCheck) throws {
        var after: Key?
        while true {
            let page = try rawRecords(R.self, after: after, limit: 4096)
            for (key, value) in page {
                check.result.records += 1
                guard let record = try? R.decode(value) else {
                    check.note("\(R.table) record \(key) does not decode")
                    continue
                }
                if record.primaryKey != key { check.note("\(R.table) record stored under the wrong key \(key)") }
                for entry in record.indexEntries {
                    check.expected[Schema.indexKey(R.table, entry, primary: record.primaryKey)] =
                        record.primaryKey.bytes
                }
            }
            guard page.count == 4096, let last = page.last else { break }
            after = last.key
        }
    }
}

extension Schema {
    /// `MetadataReading.verifyIndexes` for code that holds the LMDB schema.
    public func verifyIndexes(_ types: [any StoredRecord.Type]) throws -> IndexVerification {
        try environment.read { try LMDBReading(transaction: $0, schema: self).verifyIndexes(types) }
    }
}

/// What one index verification has seen so far (used within one read transaction on one thread).
private final class IndexCheck {
    var result = IndexVerification()
    /// Index key → the primary key it must point at.
    var expected: [[UInt8]: [UInt8]] = [:]
    var found = Set<[UInt8]>()
    func note(_ problem: String) { if result.problems.count < 100 { result.problems.append(problem) } }
}
