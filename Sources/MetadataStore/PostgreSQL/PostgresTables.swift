import PostgresNIO

/// Custos' tables in PostgreSQL: LMDB's layout in tables. One table per record type (`custos_` and the
/// record table's name), `custos_index` with every secondary-index entry under the same key bytes as in
/// LMDB (table, index, value, primary key), and `custos_meta` (schema version, change stamps, the audit
/// head). `bytea` compares like memcmp, so every range read returns what LMDB returns, in the same order.
struct PostgresTables: Sendable {
    /// Record table → SQL table.
    private let names: [String: String]

    init(types: [any StoredRecord.Type]) {
        var names: [String: String] = [:]
        for type in types + [AuditEntry.self, AuditCheckpoint.self] { names[type.table] = Self.sqlName(type.table) }
        self.names = names
    }

    /// The SQL table of a record table: `custos_` and its name with every other character than a letter
    /// or digit as `_`.
    static func sqlName(_ table: String) -> String {
        "custos_" + String(table.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    func name<R: StoredRecord>(_ type: R.Type) throws(StoreError) -> String {
        guard let name = names[R.table] else {
            throw StoreError(code: .invalidData, reason: "record type \(R.table) is not part of this schema")
        }
        return name
    }

    /// Every SQL table, record tables first.
    var all: [String] { names.values.sorted() + ["custos_index", "custos_meta"] }

    /// The schema version of the first PostgreSQL layout. Later versions so far only add tables; a step
    /// that converts records must be run here as well before this grows.
    static let firstVersion: UInt64 = 10

    /// Creates what is missing and checks the schema version, in one transaction that holds an advisory
    /// lock, so that nodes starting together do not race. A new database gets the current version.
    ///
    /// A hot standby (a streaming replica) cannot be changed: there only the version is checked, and the
    /// result says the store is read-only (true).
    @discardableResult
    func prepare(_ session: PostgresSession) throws(StoreError) -> Bool {
        let standby = try session.rows("SELECT pg_is_in_recovery()").first.map { row throws(StoreError) in
            try row.boolean(0)
        }
        if standby == true {
            let stored = try version(session)
            guard stored == Schema.currentVersion else {
                throw StoreError(
                    code: .invalidData,
                    reason:
                        "the PostgreSQL replica has schema version \(stored), this build needs \(Schema.currentVersion): "
                        + "start a node of this build on the primary first"
                )
            }
            return true
        }
        try session.rows("BEGIN")
        do throws(StoreError) {
            try session.rows("SELECT pg_advisory_xact_lock(7368001)")
            for table in all {
                let value = table == "custos_index" ? "target" : "value"
                try session.rows("CREATE TABLE IF NOT EXISTS \(table) (key bytea PRIMARY KEY, \(value) bytea NOT NULL)")
            }
            var binds = PostgresBindings()
            binds.append(bytes: Schema.versionKey)
            let stored = try session.rows("SELECT value FROM custos_meta WHERE key = $1", binds).first.map {
                row throws(StoreError) in
                var reader = KeyReader(try row.bytes(0))
                return try reader.readUInt64()
            }
            switch stored {
            case nil:
                binds.append(bytes: Key().appending(Schema.currentVersion).bytes)
                try session.rows("INSERT INTO custos_meta (key, value) VALUES ($1, $2)", binds)
            case Schema.currentVersion?: break
            case let version? where version >= Self.firstVersion && version < Schema.currentVersion:
                // Every step since the first PostgreSQL layout only adds tables, made above.
                binds.append(bytes: Key().appending(Schema.currentVersion).bytes)
                try session.rows("UPDATE custos_meta SET value = $2 WHERE key = $1", binds)
            case let version?:
                throw StoreError(
                    code: .invalidData,
                    reason: version > Schema.currentVersion
                        ? "the PostgreSQL store has schema version \(version), newer than this build's \(Schema.currentVersion)"
                        : "the PostgreSQL store has schema version \(version); this build migrates only from \(Self.firstVersion)"
                )
            }
            try session.rows("COMMIT")
        } catch {
            _ = try? session.rows("ROLLBACK")
            throw error
        }
        return false
    }

    /// The schema version stored.
    func version(_ session: PostgresSession) throws(StoreError) -> UInt64 {
        var binds = PostgresBindings()
        binds.append(bytes: Schema.versionKey)
        guard let row = try session.rows("SELECT value FROM custos_meta WHERE key = $1", binds).first else { return 0 }
        var reader = KeyReader(try row.bytes(0))
        return try reader.readUInt64()
    }
}
