import PostgresNIO

/// One transaction on PostgreSQL, as `MetadataWriting` (and, for reads, `MetadataReading`), on the
/// thread that owns `session`.
///
/// Writes are kept here and sent together (`flush`): at commit, and before any range read that must
/// see them. A group of issuances then costs one lookup each plus a handful of multi-row statements,
/// instead of a round trip per record, index entry and audit entry. Point reads see the kept writes.
final class PostgresTransaction: MetadataWriting {
    /// What this transaction knows of a key: no record, or these bytes.
    enum Slot {
        case absent
        case present([UInt8])
        var bytes: [UInt8]? { if case .present(let bytes) = self { bytes } else { nil } }
    }

    let session: PostgresSession
    let tables: PostgresTables
    let writable: Bool
    /// Whether BEGIN was sent (reads begin at their first statement; the writer begins before the jobs).
    private(set) var began: Bool
    /// Values read or flushed, by SQL table and key.
    private var known: [String: [[UInt8]: Slot]] = [:]
    /// Writes not yet sent, by SQL table and key.
    private var pending: [String: [[UInt8]: Slot]] = [:]
    private var pendingIndex: [[UInt8]: Slot] = [:]
    private var pendingMeta: [[UInt8]: [UInt8]] = [:]
    private var knownMeta: [[UInt8]: Slot] = [:]
    /// Change stamps this transaction counted up, by record table.
    private(set) var countedStamps: [String: UInt64] = [:]
    /// Audit entries appended, for the audit sink after the commit.
    private(set) var appendedAudit: [AuditEntry] = []
    private var headLocked = false

    init(session: PostgresSession, tables: PostgresTables, writable: Bool, began: Bool) {
        self.session = session
        self.tables = tables
        self.writable = writable
        self.began = began
    }

    // MARK: Reading

    func record<R: StoredRecord>(_ type: R.Type, key: Key) throws -> R? {
        try current(tables.name(R.self), key.bytes).map { bytes throws(StoreError) in try R.decode(bytes) }
    }

    func records<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [R] {
        try rawRecords(R.self, after: after, limit: limit).map { entry throws(StoreError) in try R.decode(entry.value) }
    }

    func rawRecords<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [(key: Key, value: [UInt8])] {
        try flush()
        let table = try tables.name(R.self)
        var binds = PostgresBindings()
        var sql = "SELECT key, value FROM \(table)"
        if let after {
            binds.append(bytes: after.bytes)
            sql += " WHERE key > $1"
        }
        sql += " ORDER BY key" + Self.limitClause(limit)
        return try query(sql, binds).map { row throws(StoreError) in (Key(bytes: try row.bytes(0)), try row.bytes(1)) }
    }

    func rawIndexEntries(after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], target: [UInt8])] {
        try flush()
        var binds = PostgresBindings()
        var sql = "SELECT key, target FROM custos_index"
        if let after {
            binds.append(bytes: after)
            sql += " WHERE key > $1"
        }
        sql += " ORDER BY key" + Self.limitClause(limit)
        return try query(sql, binds).map { row throws(StoreError) in (try row.bytes(0), try row.bytes(1)) }
    }

    func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int) throws -> [Key] {
        let prefix = Schema.indexPrefix(R.table, index, value)
        return try indexScan(from: prefix, to: Key(bytes: prefix).prefixEnd, limit: limit)
    }

    func keys<R: StoredRecord>(_ type: R.Type, index: String, from lower: Key, to upper: Key, limit: Int) throws
        -> [Key]
    {
        try indexScan(
            from: Schema.indexPrefix(R.table, index, lower),
            to: Schema.indexPrefix(R.table, index, upper),
            limit: limit
        )
    }

    func changeStamp<R: StoredRecord>(_ type: R.Type) throws -> UInt64 {
        guard R.tracksChanges else { return 0 }
        if let counted = countedStamps[R.table] { return counted }
        guard let bytes = try meta(Schema.changeStampKey(R.table)) else { return 0 }
        var reader = KeyReader(bytes)
        return try reader.readUInt64()
    }

    func auditHead() throws -> (sequence: UInt64, hash: [UInt8])? {
        guard let stored = try meta(Schema.auditHeadKey) else { return nil }
        var reader = KeyReader(stored)
        return (try reader.readUInt64(), try reader.readBytes())
    }

    func clock() throws -> Int64 {
        // Microseconds are what PostgreSQL keeps; the database server's clock is the one clock of a cluster.
        let rows = try query("SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint", PostgresBindings())
        guard let row = rows.first else { throw StoreError(code: .database, reason: "PostgreSQL gave no time") }
        return try row.integer(0) * 1000
    }

    /// On a hot standby: how many microseconds its replay is behind (0 when it has replayed all WAL it
    /// received), and whether its WAL receiver runs and streams (nil when the user may not see the
    /// receiver's status: only members of pg_read_all_stats may).
    func replication() throws -> (lag: Int64, streaming: Bool?) {
        let lag =
            try query(
                "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
                    + "ELSE COALESCE((extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) "
                    + "* 1000000)::bigint, 0) END",
                PostgresBindings()
            ).first.map { row throws(StoreError) in try row.integer(0) } ?? 0
        let receiver = try query(
            "SELECT status = 'streaming', status IS NULL FROM pg_stat_wal_receiver",
            PostgresBindings()
        )
        guard let row = receiver.first else { return (lag, false) }
        return (lag, try row.boolean(1) ? nil : try row.boolean(0))
    }

    /// Every table's change stamp (for the backend's watcher).
    func allChangeStamps() throws -> [String: UInt64] {
        let prefix = Key().appending("changes").bytes
        var binds = PostgresBindings()
        binds.append(bytes: prefix)
        binds.append(bytes: Key(bytes: prefix).prefixEnd ?? prefix)
        var stamps: [String: UInt64] = [:]
        for row in try query("SELECT key, value FROM custos_meta WHERE key >= $1 AND key < $2", binds) {
            var keyReader = KeyReader(try row.bytes(0))
            _ = try keyReader.readString()
            var valueReader = KeyReader(try row.bytes(1))
            stamps[try keyReader.readString()] = try valueReader.readUInt64()
        }
        return stamps
    }

    // MARK: Writing

    func save<R: StoredRecord>(_ record: R) throws {
        try requireWritable()
        let table = try tables.name(R.self)
        let key = record.primaryKey
        guard !key.bytes.isEmpty, key.bytes.count <= 511 else {
            throw StoreError(code: .invalidData, reason: "a key must have 1 to 511 bytes, got \(key.bytes.count)")
        }
        if let old = try current(table, key.bytes) {
            for entry in try R.decode(old).indexEntries {
                pendingIndex[Schema.indexKey(R.table, entry, primary: key)] = .absent
            }
        }
        pending[table, default: [:]][key.bytes] = .present(record.encoded())
        for entry in record.indexEntries {
            pendingIndex[Schema.indexKey(R.table, entry, primary: key)] = .present(key.bytes)
        }
        try countChange(R.self)
    }

    func remove<R: StoredRecord>(_ type: R.Type, key: Key) throws -> Bool {
        try requireWritable()
        let table = try tables.name(R.self)
        guard let old = try current(table, key.bytes) else { return false }
        for entry in try R.decode(old).indexEntries {
            pendingIndex[Schema.indexKey(R.table, entry, primary: key)] = .absent
        }
        pending[table, default: [:]][key.bytes] = .absent
        try countChange(R.self)
        return true
    }

    func appendAudit(_ event: AuditEvent) throws -> AuditEntry {
        try requireWritable()
        if !headLocked {
            // Every node appends behind this row: the lock orders them, and one chain stays gapless.
            var binds = PostgresBindings()
            binds.append(bytes: Schema.auditHeadKey)
            let rows = try query("SELECT value FROM custos_meta WHERE key = $1 FOR UPDATE", binds)
            if pendingMeta[Schema.auditHeadKey] == nil {
                knownMeta[Schema.auditHeadKey] = try rows.first.map { .present(try $0.bytes(0)) } ?? .absent
            }
            headLocked = true
        }
        let head = try auditHead()
        let entry = AuditEntry(
            sequence: (head?.sequence ?? 0) + 1,
            event: event,
            previousHash: head?.hash ?? [UInt8](repeating: 0, count: 32)
        )
        // A new sequence has no entry (the head says so), so saving it needs no lookup.
        known[try tables.name(AuditEntry.self), default: [:]][entry.primaryKey.bytes] = .absent
        try save(entry)
        pendingMeta[Schema.auditHeadKey] = Schema.encodedAuditHead(sequence: entry.sequence, hash: entry.hash)
        appendedAudit.append(entry)
        return entry
    }

    func copyRecord<R: StoredRecord>(_ type: R.Type, key: Key, value: [UInt8]) throws {
        try requireWritable()
        pending[try tables.name(R.self), default: [:]][key.bytes] = .present(value)
    }

    func copyIndexEntry(key: [UInt8], target: [UInt8]) throws {
        try requireWritable()
        pendingIndex[key] = .present(target)
    }

    func copyAuditHead(sequence: UInt64, hash: [UInt8]) throws {
        try requireWritable()
        pendingMeta[Schema.auditHeadKey] = Schema.encodedAuditHead(sequence: sequence, hash: hash)
    }

    func copyChangeStamp<R: StoredRecord>(_ type: R.Type, _ stamp: UInt64) throws {
        try requireWritable()
        countedStamps[R.table] = stamp
        pendingMeta[Schema.changeStampKey(R.table)] = Key().appending(stamp).bytes
    }

    /// Sends the kept writes: per table one DELETE and one multi-row upsert, the same for index entries
    /// and meta values.
    func flush() throws(StoreError) {
        guard writable, !pending.isEmpty || !pendingIndex.isEmpty || !pendingMeta.isEmpty else { return }
        for (table, changes) in pending.sorted(by: { $0.key < $1.key }) {
            try send(table, keyColumn: "key", valueColumn: "value", changes)
            known[table, default: [:]].merge(changes) { $1 }
        }
        pending.removeAll()
        try send("custos_index", keyColumn: "key", valueColumn: "target", pendingIndex)
        pendingIndex.removeAll()
        let meta = pendingMeta.mapValues { Slot.present($0) }
        try send("custos_meta", keyColumn: "key", valueColumn: "value", meta)
        knownMeta.merge(meta) { $1 }
        pendingMeta.removeAll()
    }

    /// Sends BEGIN for a read at its first statement.
    func beginIfNeeded() throws(StoreError) {
        guard !began else { return }
        try session.rows("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        began = true
    }

    // MARK: Internals

    private func send(_ table: String, keyColumn: String, valueColumn: String, _ changes: [[UInt8]: Slot])
        throws(StoreError)
    {
        var deleted: [ByteBuffer] = []
        var keys: [ByteBuffer] = []
        var values: [ByteBuffer] = []
        // Sorted, so that two nodes writing the same rows lock them in the same order.
        for (key, slot) in changes.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            switch slot {
            case .absent: deleted.append(ByteBuffer(bytes: key))
            case .present(let value):
                keys.append(ByteBuffer(bytes: key))
                values.append(ByteBuffer(bytes: value))
            }
        }
        if !deleted.isEmpty {
            var binds = PostgresBindings()
            binds.append(deleted)
            try session.rows("DELETE FROM \(table) WHERE \(keyColumn) = ANY($1)", binds)
        }
        if !keys.isEmpty {
            var binds = PostgresBindings()
            binds.append(keys)
            binds.append(values)
            try session.rows(
                "INSERT INTO \(table) (\(keyColumn), \(valueColumn)) SELECT * FROM unnest($1::bytea[], $2::bytea[]) "
                    + "ON CONFLICT (\(keyColumn)) DO UPDATE SET \(valueColumn) = excluded.\(valueColumn)",
                binds
            )
        }
    }

    private func requireWritable() throws(StoreError) {
        guard writable else { throw StoreError(code: .readOnly, reason: "a read transaction cannot write") }
    }

    private func countChange<R: StoredRecord>(_ type: R.Type) throws {
        guard R.tracksChanges else { return }
        let next = try changeStamp(R.self) &+ 1
        countedStamps[R.table] = next
        pendingMeta[Schema.changeStampKey(R.table)] = Key().appending(next).bytes
    }

    /// The record bytes under `key`: kept writes first, then what was read, then the database.
    private func current(_ table: String, _ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        if let slot = pending[table]?[key] ?? known[table]?[key] { return slot.bytes }
        var binds = PostgresBindings()
        binds.append(bytes: key)
        let value = try query("SELECT value FROM \(table) WHERE key = $1", binds).first.map {
            row throws(StoreError) in try row.bytes(0)
        }
        known[table, default: [:]][key] = value.map { .present($0) } ?? .absent
        return value
    }

    private func meta(_ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        if let value = pendingMeta[key] { return value }
        if let slot = knownMeta[key] { return slot.bytes }
        var binds = PostgresBindings()
        binds.append(bytes: key)
        let value = try query("SELECT value FROM custos_meta WHERE key = $1", binds).first.map {
            row throws(StoreError) in try row.bytes(0)
        }
        knownMeta[key] = value.map { .present($0) } ?? .absent
        return value
    }

    private func indexScan(from lower: [UInt8], to upper: [UInt8]?, limit: Int) throws(StoreError) -> [Key] {
        try flush()
        var binds = PostgresBindings()
        binds.append(bytes: lower)
        var sql = "SELECT target FROM custos_index WHERE key >= $1"
        if let upper {
            binds.append(bytes: upper)
            sql += " AND key < $2"
        }
        sql += " ORDER BY key" + Self.limitClause(limit)
        return try query(sql, binds).map { row throws(StoreError) in Key(bytes: try row.bytes(0)) }
    }

    private func query(_ sql: String, _ binds: PostgresBindings) throws(StoreError) -> [PostgresRow] {
        try beginIfNeeded()
        return try session.rows(sql, binds)
    }

    private static func limitClause(_ limit: Int) -> String {
        limit >= Int(Int32.max) ? "" : " LIMIT \(max(0, limit))"
    }
}
