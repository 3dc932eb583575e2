/// A bounded table of what was stored lately, in two generations of at most `capacity` entries each:
/// new entries go into the current one; when it is full it becomes the previous one and the previous
/// one is dropped whole. Lookups search both. An entry is therefore found for at least `capacity`
/// and at most `2 × capacity` insertions after it was stored, whatever the order of lookups.
///
/// Unlike a table that starts over when full, a working set of up to `2 × capacity` keys asked for
/// in turn (a relying party cycling through a few thousand certificates) is found every time after
/// the first pass; a least-recently-used list would miss every one of them once it exceeds its size.
/// A lookup costs two hash probes and changes nothing, and a key used all the time misses once each
/// two generations.
struct GenerationalTable<Key: Hashable, Value> {
    let capacity: Int
    private var current: [Key: Value] = [:]
    private var previous: [Key: Value] = [:]

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Entries held, in both generations (a key stored again is held once).
    var count: Int { current.count + previous.count }

    /// The value stored for `key`, if it is still held.
    func value(_ key: Key) -> Value? { current[key] ?? previous[key] }

    /// Stores `value` for `key` in the current generation.
    mutating func insert(_ value: Value, for key: Key) {
        if current[key] == nil, current.count >= capacity {
            previous = current
            current = Dictionary(minimumCapacity: capacity)
        }
        previous.removeValue(forKey: key)
        current[key] = value
    }
}
