public import Synchronization

/// Values decoded from one table, kept while the table's change stamp stays the same.
///
/// Every request reads the same few records (its credential, its CA, the CA's policy); decoding them
/// each time cost more than the rest of the lookup. The stamp is written in the same transaction as
/// the change, by whichever process makes it, so a revoked credential or a retired CA is seen by the
/// next read, exactly as without the cache.
public final class ChangeStampedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    // Inlinable, so callers get the dictionary specialised for their key and value (unspecialised, its
    // generic metadata lookups cost as much as the decoding the cache saves).
    @usableFromInline struct Entries {
        /// The stamp the values were read at (0 with no values before the first read is the same as a
        /// table never changed and nothing read yet).
        @usableFromInline var stamp: UInt64 = 0
        @usableFromInline var values: [Key: Value] = [:]
    }

    @usableFromInline let entries: Mutex<Entries> = Mutex(Entries())
    @usableFromInline let capacity: Int

    /// A cache that starts over when it holds `capacity` values (credentials of a busy deployment
    /// number in the thousands at most).
    public init(capacity: Int = 4096) { self.capacity = capacity }

    /// `load`'s answer for `key`, reused while `R`'s table is unchanged; `load` reads from the same
    /// snapshot as the stamp it is filed under. Only read-only snapshots fill the cache (a write
    /// transaction's stamp can be rolled back), so there is no variant taking a transaction.
    ///
    /// A hit costs the backend's `knownChangeStamp` (LMDB: one read; PostgreSQL: none, the stamp is
    /// in memory), a miss one read more.
    @inlinable
    public func value<R: StoredRecord>(
        _ key: Key,
        watching type: R.Type,
        in store: any MetadataBackend,
        load: @escaping @Sendable (any MetadataReading) throws -> Value
    ) async throws -> Value {
        let known = try await store.knownChangeStamp(R.self)
        if let kept = kept(key, stamp: known) { return kept }
        return try await store.read { reader in
            let stamp = try reader.changeStamp(R.self)
            return try self.value(key, stamp: stamp) { try load(reader) }
        }
    }

    /// The value kept for `key` if the cache was filled at `stamp`.
    @inlinable
    func kept(_ key: Key, stamp: UInt64) -> Value? {
        entries.withLock { entries in entries.stamp == stamp ? entries.values[key] : nil }
    }

    /// The value for `key` read at `stamp`: the kept one if it was read at the same stamp, else
    /// `load`'s, which is kept unless an older snapshot read it.
    @inlinable
    func value(_ key: Key, stamp: UInt64, load: () throws -> Value) rethrows -> Value {
        if let kept = kept(key, stamp: stamp) { return kept }
        let value = try load()
        entries.withLock { entries in
            if stamp > entries.stamp {
                entries.stamp = stamp
                entries.values.removeAll()
            }
            guard entries.stamp == stamp else { return }  // read from an older snapshot
            if entries.values.count >= capacity { entries.values.removeAll(keepingCapacity: true) }
            entries.values[key] = value
        }
        return value
    }
}
