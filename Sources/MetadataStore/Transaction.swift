internal import CLMDB

/// Lends `bytes` to LMDB as an `MDB_val` for the duration of `body`.
func withValue<R>(_ bytes: inout [UInt8], _ body: (inout MDB_val) throws(StoreError) -> R) throws(StoreError) -> R {
    try bytes.withUnsafeMutableBufferPointer { (buffer) throws(StoreError) -> R in
        var value = MDB_val(mv_size: buffer.count, mv_data: UnsafeMutableRawPointer(buffer.baseAddress))
        return try body(&value)
    }
}

/// A read-only view of the store for the duration of one closure.
public class ReadTransaction {
    let txn: OpaquePointer

    init(_ txn: OpaquePointer) { self.txn = txn }

    /// The value stored under `key`, copied out; nil when there is none.
    public func get(_ database: Database, _ key: [UInt8]) throws(StoreError) -> [UInt8]? {
        var keyBytes = key
        return try withValue(&keyBytes) { (mdbKey) throws(StoreError) -> [UInt8]? in
            var value = MDB_val()
            let rc = mdb_get(txn, database.dbi, &mdbKey, &value)
            if rc == MDB_NOTFOUND { return nil }
            try lmdb("mdb_get", rc)
            return Self.copy(value)
        }
    }

    /// Entries with `lower <= key < upper` (no upper bound when nil) in key order, at most `limit`.
    public func scan(_ database: Database, from lower: [UInt8], to upper: [UInt8]? = nil, limit: Int = .max)
        throws(StoreError) -> [(key: [UInt8], value: [UInt8])]
    {
        var results: [(key: [UInt8], value: [UInt8])] = []
        try forEach(database, from: lower, to: upper) { key, value in
            results.append((key, value))
            return results.count < limit
        }
        return results
    }

    /// Calls `body` for entries with `lower <= key < upper` in key order until it returns false.
    public func forEach(
        _ database: Database,
        from lower: [UInt8],
        to upper: [UInt8]? = nil,
        _ body: ([UInt8], [UInt8]) throws(StoreError) -> Bool
    ) throws(StoreError) {
        var cursor: OpaquePointer?
        try lmdb("mdb_cursor_open", mdb_cursor_open(txn, database.dbi, &cursor))
        defer { mdb_cursor_close(cursor) }
        var start = lower
        try withValue(&start) { (key) throws(StoreError) in
            var value = MDB_val()
            var rc = mdb_cursor_get(cursor, &key, &value, lower.isEmpty ? MDB_FIRST : MDB_SET_RANGE)
            while rc == 0 {
                let keyBytes = Self.copy(key)
                if let upper, !keyBytes.lexicographicallyPrecedes(upper) { return }
                guard try body(keyBytes, Self.copy(value)) else { return }
                rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try lmdb("mdb_cursor_get", rc) }
        }
    }

    /// Number of entries in `database`.
    public func count(_ database: Database) throws(StoreError) -> Int {
        var stat = MDB_stat()
        try lmdb("mdb_stat", mdb_stat(txn, database.dbi, &stat))
        return stat.ms_entries
    }

    static func copy(_ value: MDB_val) -> [UInt8] {
        guard let data = value.mv_data, value.mv_size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: value.mv_size))
    }
}

/// A write transaction, handed out only by `StoreWriter` on its thread.
public final class WriteTransaction: ReadTransaction {
    /// Audit entries appended in this transaction, forwarded (to syslog) only after it commits.
    var appendedAudit: [AuditEntry] = []

    /// Stores `value` under `key`, replacing what was there.
    public func put(_ database: Database, _ key: [UInt8], _ value: [UInt8]) throws(StoreError) {
        guard !key.isEmpty, key.count <= 511 else {
            throw StoreError(code: .invalidData, reason: "a key must have 1 to 511 bytes, got \(key.count)")
        }
        var keyBytes = key
        var valueBytes = value
        try withValue(&keyBytes) { (mdbKey) throws(StoreError) in
            try withValue(&valueBytes) { (mdbValue) throws(StoreError) in
                try lmdb("mdb_put", mdb_put(txn, database.dbi, &mdbKey, &mdbValue, 0))
            }
        }
    }

    /// Removes `key`; returns whether it was there.
    @discardableResult
    public func delete(_ database: Database, _ key: [UInt8]) throws(StoreError) -> Bool {
        var keyBytes = key
        return try withValue(&keyBytes) { (mdbKey) throws(StoreError) -> Bool in
            let rc = mdb_del(txn, database.dbi, &mdbKey, nil)
            if rc == MDB_NOTFOUND { return false }
            try lmdb("mdb_del", rc)
            return true
        }
    }
}
