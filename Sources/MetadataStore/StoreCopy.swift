/// Copies a whole store to another backend (LMDB to PostgreSQL and back: `custos store migrate`) and
/// checks the copy.
///
/// Records, index entries, the audit head and the change stamps are copied as stored bytes, so the copy
/// has the same audit chain (same hashes) and answers every read alike. The source must not change
/// while it is copied (every node stopped): its audit head is compared before and after, and the
/// check compares every record and index entry again. The target must be empty.
public struct StoreCopy: Sendable {
    /// What was copied.
    public struct Summary: Sendable, Equatable {
        /// Records by table (audit entries and checkpoints included).
        public var records: [String: Int] = [:]
        public var indexEntries = 0
        /// The audit head's sequence (0: an empty log).
        public var auditEntries: UInt64 = 0
    }

    public let source: any MetadataBackend
    public let target: any MetadataBackend
    /// The record types of the schema (`CustosStore.recordTypes`); the audit tables are added.
    public let recordTypes: [any StoredRecord.Type]
    /// The record types and the audit tables: what is copied.
    let types: [any StoredRecord.Type]
    /// Records or index entries per write transaction.
    public let batch: Int

    public init(
        from source: any MetadataBackend,
        to target: any MetadataBackend,
        types: [any StoredRecord.Type],
        batch: Int = 1_000
    ) {
        self.source = source
        self.target = target
        self.recordTypes = types
        self.types = types + [AuditEntry.self, AuditCheckpoint.self]
        self.batch = max(1, batch)
    }

    /// Copies everything; refuses a target that holds anything, and a source that changed meanwhile.
    public func copy() async throws -> Summary {
        if let what = try await contents(of: target) {
            throw StoreError(
                code: .conflict,
                reason: "the target \(target.location) is not empty (\(what)); migrate only into a new store"
            )
        }
        let head = try await source.auditHead()
        var summary = Summary()
        for type in types { summary.records[type.table] = try await copyTable(type) }
        var after: [UInt8]?
        while true {
            let page = try await source.read { [batch, after] in try $0.rawIndexEntries(after: after, limit: batch) }
            guard let last = page.last else { break }
            try await target.write { txn in
                for entry in page { try txn.copyIndexEntry(key: entry.key, target: entry.target) }
            }
            summary.indexEntries += page.count
            after = last.key
        }
        for type in types { try await copyStamp(type) }
        if let head {
            try await target.write { try $0.copyAuditHead(sequence: head.sequence, hash: head.hash) }
            summary.auditEntries = head.sequence
        }
        let headAfter = try await source.auditHead()
        guard headAfter?.sequence == head?.sequence, headAfter?.hash == head?.hash else {
            throw StoreError(
                code: .conflict,
                reason: "the source changed while it was copied (audit entry \(headAfter?.sequence ?? 0) was written); "
                    + "stop every node on it and migrate again into a new, empty target"
            )
        }
        return summary
    }

    /// Compares the two stores record by record and index entry by index entry, and checks the target's
    /// audit chain and indexes. Returns the first difference, or nil when they are the same.
    public func difference() async throws -> String? {
        for type in types {
            if let difference = try await compareTable(type) { return difference }
        }
        var after: [UInt8]?
        while true {
            let (mine, theirs) = (
                try await source.read { [batch, after] in try $0.rawIndexEntries(after: after, limit: batch) },
                try await target.read { [batch, after] in try $0.rawIndexEntries(after: after, limit: batch) }
            )
            guard mine.map(\.key) == theirs.map(\.key), mine.map(\.target) == theirs.map(\.target) else {
                return "index entries differ after \(after.map { "\(Key(bytes: $0))" } ?? "the start")"
            }
            guard let last = mine.last else { break }
            after = last.key
        }
        for type in types {
            if let difference = try await compareStamp(type) { return difference }
        }
        let (sourceHead, targetHead) = (try await source.auditHead(), try await target.auditHead())
        guard sourceHead?.sequence == targetHead?.sequence, sourceHead?.hash == targetHead?.hash else {
            return "the audit heads differ"
        }
        let audit = try await target.verifyAudit()
        if let broken = audit.firstBroken {
            return "the copied audit chain breaks at \(broken.sequence): \(broken.reason)"
        }
        let types = recordTypes
        let indexes = try await target.read { try $0.verifyIndexes(types) }
        if let problem = indexes.problems.first { return "the copy's indexes: \(problem)" }
        return nil
    }

    /// What a store holds, briefly, or nil when it holds nothing.
    private func contents(of store: any MetadataBackend) async throws -> String? {
        for type in types {
            if let what = try await firstRecord(type, in: store) { return what }
        }
        if try await store.auditHead() != nil { return "an audit chain" }
        return nil
    }

    private func firstRecord<R: StoredRecord>(_ type: R.Type, in store: any MetadataBackend) async throws -> String? {
        let found = try await store.read { try $0.rawRecords(R.self, after: nil, limit: 1) }
        return found.isEmpty ? nil : "records in \(R.table)"
    }

    private func copyTable<R: StoredRecord>(_ type: R.Type) async throws -> Int {
        var after: Key?
        var count = 0
        while true {
            let page = try await source.read { [batch, after] in try $0.rawRecords(R.self, after: after, limit: batch) }
            guard let last = page.last else { return count }
            try await target.write { txn in
                for record in page { try txn.copyRecord(R.self, key: record.key, value: record.value) }
            }
            count += page.count
            after = last.key
        }
    }

    private func copyStamp<R: StoredRecord>(_ type: R.Type) async throws {
        guard R.tracksChanges else { return }
        let stamp = try await source.read { try $0.changeStamp(R.self) }
        try await target.write { try $0.copyChangeStamp(R.self, stamp) }
    }

    private func compareTable<R: StoredRecord>(_ type: R.Type) async throws -> String? {
        var after: Key?
        while true {
            let (mine, theirs) = (
                try await source.read { [batch, after] in try $0.rawRecords(R.self, after: after, limit: batch) },
                try await target.read { [batch, after] in try $0.rawRecords(R.self, after: after, limit: batch) }
            )
            guard mine.map(\.key) == theirs.map(\.key), mine.map(\.value) == theirs.map(\.value) else {
                return "\(R.table) differs (\(mine.count) against \(theirs.count) records in a page)"
            }
            guard let last = mine.last else { return nil }
            after = last.key
        }
    }

    private func compareStamp<R: StoredRecord>(_ type: R.Type) async throws -> String? {
        let (mine, theirs) = (
            try await source.read { try $0.changeStamp(R.self) }, try await target.read { try $0.changeStamp(R.self) }
        )
        return mine == theirs ? nil : "the change stamps of \(R.table) differ (\(mine) against \(theirs))"
    }
}
