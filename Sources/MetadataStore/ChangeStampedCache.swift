import Synchronization

/// Values decoded from one table, kept while the table's change stamp stays the same.
///
/// Every request reads the same few records (its credential, its CA, the CA's policy); decoding them
/// each time cost more than the rest of the lookup. The stamp is written in the same transaction as
/// the change, by whichever process makes it, so a revoked credential or a retired CA is seen by the
/// next read, exactly as without the cache. Use it through `MetadataBackend.cached`.
public final class ChangeStampedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entries {
        var stamp: UInt64 = 0
        var filled = false
        var values: [Key: Value] = [:]
    }

    private let entries = Mutex(Entries())
    private let capacity: Int

    /// A cache that starts over when it holds `capacity` values (credentials of a busy deployment
    /// number in the thousands at most).
    public init(capacity: Int = 4096) { self.capacity = capacity }

    /// The value for `key` read at `stamp`: the kept one if it was read at the same stamp, else
    /// `load`'s, which is kept unless an older snapshot read it.
    func value(_ key: Key, stamp: UInt64, load: () throws -> Value) rethrows -> Value {
        let kept: Value? = entries.withLock { entries in
            guard entries.filled, entries.stamp == stamp else { return nil }
            return entries.values[key]
        }
        if let kept { return kept }
        let value = try load()
        entries.withLock { entries in
            if !entries.filled || stamp > entries.stamp {
                entries = Entries(stamp: stamp, filled: true, values: [:])
            }
            guard entries.stamp == stamp else { return }  // read from an older snapshot
            if entries.values.count >= capacity { entries.values.removeAll(keepingCapacity: true) }
            entries.values[key] = value
        }
        return value
    }
}
