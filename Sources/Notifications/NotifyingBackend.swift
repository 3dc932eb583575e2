public import MetadataStore

/// A store whose writes put the notifications their audit entries cause into the same transaction.
/// Services are given this backend instead of the store itself; reads pass through untouched, and a
/// write with no event rule in force costs one change-stamp read.
public struct NotifyingBackend: MetadataBackend {
    public let inner: any MetadataBackend
    public let outbox: NotificationOutbox

    public init(_ inner: any MetadataBackend, outbox: NotificationOutbox) {
        self.inner = inner
        self.outbox = outbox
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T) async throws -> T {
        try await inner.read(body)
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws -> T {
        let rules = try await outbox.rules(inner).events
        guard !rules.isEmpty else { return try await inner.write(body) }
        let outbox = outbox
        return try await inner.write { txn in
            try body(NotifyingWriting(inner: txn, outbox: outbox, rules: rules))
        }
    }

    public func knownChangeStamp<R: StoredRecord>(_ type: R.Type) async throws -> UInt64 {
        try await inner.knownChangeStamp(R.self)
    }

    public func readWithoutWaiting<T>(_ body: (any MetadataReading) throws -> T) throws -> T? {
        try inner.readWithoutWaiting(body)
    }

    public var location: String { inner.location }
    public var directory: String? { inner.directory }
    public var isReadOnly: Bool { inner.isReadOnly }
}

/// A write transaction that enqueues notifications after each audit entry it appends.
struct NotifyingWriting: MetadataWriting {
    let inner: any MetadataWriting
    let outbox: NotificationOutbox
    let rules: [NotificationOutbox.Rule]

    func appendAudit(_ event: AuditEvent) throws -> AuditEntry {
        let entry = try inner.appendAudit(event)
        try outbox.enqueue(entry, rules: rules, in: inner)
        return entry
    }

    func record<R: StoredRecord>(_ type: R.Type, key: Key) throws -> R? { try inner.record(R.self, key: key) }
    func records<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [R] {
        try inner.records(R.self, after: after, limit: limit)
    }
    func rawRecords<R: StoredRecord>(_ type: R.Type, after: Key?, limit: Int) throws -> [(key: Key, value: [UInt8])] {
        try inner.rawRecords(R.self, after: after, limit: limit)
    }
    func rawIndexEntries(after: [UInt8]?, limit: Int) throws -> [(key: [UInt8], target: [UInt8])] {
        try inner.rawIndexEntries(after: after, limit: limit)
    }
    func keys<R: StoredRecord>(_ type: R.Type, index: String, value: Key, limit: Int) throws -> [Key] {
        try inner.keys(R.self, index: index, value: value, limit: limit)
    }
    func keys<R: StoredRecord>(_ type: R.Type, index: String, from lower: Key, to upper: Key, limit: Int) throws
        -> [Key]
    {
        try inner.keys(R.self, index: index, from: lower, to: upper, limit: limit)
    }
    func changeStamp<R: StoredRecord>(_ type: R.Type) throws -> UInt64 { try inner.changeStamp(R.self) }
    func auditHead() throws -> (sequence: UInt64, hash: [UInt8])? { try inner.auditHead() }
    func clock() throws -> Int64 { try inner.clock() }
    func save<R: StoredRecord>(_ record: R) throws { try inner.save(record) }
    func remove<R: StoredRecord>(_ type: R.Type, key: Key) throws -> Bool { try inner.remove(R.self, key: key) }
    func copyRecord<R: StoredRecord>(_ type: R.Type, key: Key, value: [UInt8]) throws {
        try inner.copyRecord(R.self, key: key, value: value)
    }
    func copyIndexEntry(key: [UInt8], target: [UInt8]) throws { try inner.copyIndexEntry(key: key, target: target) }
    func copyAuditHead(sequence: UInt64, hash: [UInt8]) throws {
        try inner.copyAuditHead(sequence: sequence, hash: hash)
    }
    func copyChangeStamp<R: StoredRecord>(_ type: R.Type, _ stamp: UInt64) throws {
        try inner.copyChangeStamp(R.self, stamp)
    }
}
