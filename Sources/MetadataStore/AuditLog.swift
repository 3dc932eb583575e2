import Crypto
public import Foundation

/// One security-relevant event, as the caller describes it.
public struct AuditEvent: Sendable, Hashable {
    public var actor: String
    public var action: String
    public var object: String
    public var outcome: String
    public var requestID: String?
    /// When it happened; nanoseconds since 1970 (UTC).
    public var time: Int64

    public init(
        actor: String,
        action: String,
        object: String,
        outcome: String,
        requestID: String? = nil,
        time: Date = Date()
    ) {
        self.actor = actor
        self.action = action
        self.object = object
        self.outcome = outcome
        self.requestID = requestID
        self.time = Int64((time.timeIntervalSince1970 * 1e9).rounded())
    }
}

/// A stored audit entry: the event, its sequence number, and the SHA-256 of the previous entry, so that
/// removing, changing or reordering entries breaks the chain.
public struct AuditEntry: StoredRecord, Hashable {
    public static let table = "audit"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public var sequence: UInt64
    public var event: AuditEvent
    /// SHA-256 of the previous entry's encoded form; 32 zero bytes for the first.
    public var previousHash: [UInt8]

    public var primaryKey: Key { Self.key(sequence: sequence) }

    static func key(sequence: UInt64) -> Key { Key().appending(sequence) }
    public var indexEntries: [IndexEntry] {
        [IndexEntry("actor", Key().appending(event.actor)), IndexEntry("action", Key().appending(event.action))]
    }

    public init(sequence: UInt64, event: AuditEvent, previousHash: [UInt8]) {
        self.sequence = sequence
        self.event = event
        self.previousHash = previousHash
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(sequence)
        writer.write(event.time)
        writer.write(event.actor)
        writer.write(event.action)
        writer.write(event.object)
        writer.write(event.outcome)
        writer.write(event.requestID)
        writer.write(previousHash)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        sequence = try reader.readUInt64()
        let time = try reader.readInt64()
        event = AuditEvent(
            actor: try reader.readString(),
            action: try reader.readString(),
            object: try reader.readString(),
            outcome: try reader.readString(),
            requestID: try reader.readOptionalString()
        )
        event.time = time
        previousHash = try reader.readBytes()
    }

    /// The hash the next entry refers to.
    public var hash: [UInt8] { Array(SHA256.hash(data: encoded())) }
}

/// The result of walking the audit chain.
public struct AuditVerification: Sendable, Hashable {
    /// The first entry that breaks the chain, and why.
    public struct Break: Sendable, Hashable {
        public var sequence: UInt64
        public var reason: String
    }
    /// Entries checked and found in order.
    public var entries: UInt64
    /// Nil when the chain is intact.
    public var firstBroken: Break?
}

extension Schema {
    static let auditHeadKey = Key().appending("audit-head").bytes

    /// The audit head's stored value: the last entry's sequence and hash.
    static func encodedAuditHead(sequence: UInt64, hash: [UInt8]) -> [UInt8] {
        var encoded = Key()
        encoded.append(sequence)
        encoded.append(bytes: hash)
        return encoded.bytes
    }

    /// The chain's head as stored in the meta database (written only by `appendAudit`).
    func auditHead(in transaction: ReadTransaction) throws -> (sequence: UInt64, hash: [UInt8])? {
        guard let stored = try transaction.get(meta, Self.auditHeadKey) else { return nil }
        var reader = KeyReader(stored)
        return (try reader.readUInt64(), try reader.readBytes())
    }
}

extension MetadataReading {
    /// Walks the chain from the first entry: sequence numbers must run 1, 2, 3 … without gaps, each
    /// entry must name the hash of the one before, and the stored head must be the last entry. Reads
    /// the log in pages within this snapshot.
    public func verifyAudit() throws -> AuditVerification {
        var expected: UInt64 = 1
        var previous = [UInt8](repeating: 0, count: 32)
        var broken: AuditVerification.Break?
        var after: Key?
        walk: while true {
            let page = try rawRecords(AuditEntry.self, after: after, limit: 1024)
            for (key, value) in page {
                var keyReader = KeyReader(key.bytes)
                let keySequence = (try? keyReader.readUInt64()) ?? 0
                guard let entry = try? AuditEntry.decode(value) else {
                    broken = .init(sequence: keySequence, reason: "entry does not decode")
                    break walk
                }
                if entry.sequence != keySequence {
                    broken = .init(
                        sequence: keySequence,
                        reason: "entry stored under sequence \(keySequence) says \(entry.sequence)"
                    )
                } else if entry.sequence != expected {
                    broken = .init(
                        sequence: expected,
                        reason: "entry \(expected) is missing (next is \(entry.sequence))"
                    )
                } else if entry.previousHash != previous {
                    broken = .init(
                        sequence: entry.sequence,
                        reason: "previous-hash does not match entry \(entry.sequence - 1)"
                    )
                }
                if broken != nil { break walk }
                previous = entry.hash
                expected += 1
            }
            guard page.count == 1024, let last = page.last else { break }
            after = last.key
        }
        let count = expected - 1
        if broken == nil, let (headSequence, headHash) = try auditHead() {
            if headSequence != count {
                broken = .init(
                    sequence: count + 1,
                    reason: "the head names entry \(headSequence) but the chain ends at \(count)"
                )
            } else if headHash != previous {
                broken = .init(sequence: count, reason: "the head's hash does not match entry \(count)")
            }
        } else if broken == nil && count > 0 {
            broken = .init(sequence: 1, reason: "entries exist but the head is missing")
        }
        return AuditVerification(entries: count, firstBroken: broken)
    }
}

extension MetadataReading {
    /// Continues checking the chain after an entry already found good (`verified`: its sequence and
    /// hash; nil to start at the first), over at most `limit` entries: each must follow the one before
    /// in sequence and name its hash. Returns the last good entry and the first break, if any. For a
    /// watch that checks what was appended since it last looked; `verifyAudit` walks everything.
    public func continueAuditVerification(after verified: (sequence: UInt64, hash: [UInt8])?, limit: Int) throws
        -> (verified: (sequence: UInt64, hash: [UInt8])?, broken: AuditVerification.Break?)
    {
        var last = verified
        var after = verified.map { AuditEntry.key(sequence: $0.sequence) }
        var checked = 0
        while checked < limit {
            let page = try rawRecords(AuditEntry.self, after: after, limit: min(1024, limit - checked))
            for (key, value) in page {
                var keyReader = KeyReader(key.bytes)
                let keySequence = (try? keyReader.readUInt64()) ?? 0
                let expected = (last?.sequence ?? 0) + 1
                guard let entry = try? AuditEntry.decode(value) else {
                    return (last, .init(sequence: keySequence, reason: "entry does not decode"))
                }
                guard entry.sequence == keySequence, entry.sequence == expected else {
                    return (last, .init(sequence: expected, reason: "entry \(expected) is missing or misplaced"))
                }
                guard entry.previousHash == (last?.hash ?? [UInt8](repeating: 0, count: 32)) else {
                    return (
                        last,
                        .init(sequence: entry.sequence, reason: "previous-hash does not match entry \(expected - 1)")
                    )
                }
                last = (entry.sequence, entry.hash)
            }
            checked += page.count
            guard page.count == 1024, let end = page.last else { break }
            after = end.key
        }
        return (last, nil)
    }
}

extension WriteTransaction {
    /// Appends an audit entry in this transaction, so the event and the change it describes are
    /// durable together or not at all. Returns the entry.
    @discardableResult
    public func appendAudit(_ event: AuditEvent, in schema: Schema) throws -> AuditEntry {
        let head = try schema.auditHead(in: self)
        let entry = AuditEntry(
            sequence: (head?.sequence ?? 0) + 1,
            event: event,
            previousHash: head?.hash ?? [UInt8](repeating: 0, count: 32)
        )
        try save(entry, in: schema)
        try put(schema.meta, Schema.auditHeadKey, Schema.encodedAuditHead(sequence: entry.sequence, hash: entry.hash))
        appendedAudit.append(entry)
        return entry
    }
}

extension MetadataReading {
    /// Audit entries of one action, oldest first (at most `limit`).
    public func auditEntries(action: String, limit: Int) throws -> [AuditEntry] {
        try records(AuditEntry.self, index: "action", value: Key().appending(action), limit: limit)
    }

    /// Audit entries in sequence order, after `sequence` (exclusive) or from the first.
    public func auditEntries(after sequence: UInt64?, limit: Int) throws -> [AuditEntry] {
        try records(AuditEntry.self, after: sequence.map { AuditEntry.key(sequence: $0) }, limit: limit)
    }
}
