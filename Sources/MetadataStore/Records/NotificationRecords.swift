/// A notification channel: where notifications go (a webhook, a mail relay). The Notifications module
/// encodes the settings as a JSON document; secrets are never in it, only the vault path that holds them.
public struct NotificationChannelRecord: StoredRecord, Hashable {
    public static let table = "notification-channels"
    public static let formatVersions: ClosedRange<UInt8> = 1...1
    public static let tracksChanges = true

    public var name: String
    /// The tenant whose rules may use it; nil for a channel of the whole installation.
    public var tenant: String?
    public var document: [UInt8]
    /// Nanoseconds since 1970.
    public var updated: Int64

    public init(name: String, tenant: String?, document: [UInt8], updated: Int64) {
        self.name = name
        self.tenant = tenant
        self.document = document
        self.updated = updated
    }

    public var primaryKey: Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(tenant)
        writer.write(document)
        writer.write(updated)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        tenant = try reader.readOptionalString()
        document = try reader.readBytes()
        updated = try reader.readInt64()
    }
}

/// A notification rule: which events, expiry stages or scheduled reports notify whom through which
/// channel. The Notifications module encodes the rule as a JSON document. Rules are read inside every
/// audited write (to put its notifications in the same transaction), so the table keeps a change stamp.
public struct NotificationRuleRecord: StoredRecord, Hashable {
    public static let table = "notification-rules"
    public static let formatVersions: ClosedRange<UInt8> = 1...1
    public static let tracksChanges = true

    public var name: String
    public var tenant: String?
    public var document: [UInt8]
    public var updated: Int64
    /// Scheduled reports: when the report last ran (nanoseconds since 1970).
    public var lastRun: Int64?

    public init(name: String, tenant: String?, document: [UInt8], updated: Int64, lastRun: Int64? = nil) {
        self.name = name
        self.tenant = tenant
        self.document = document
        self.updated = updated
        self.lastRun = lastRun
    }

    public var primaryKey: Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(tenant)
        writer.write(document)
        writer.write(updated)
        writer.write(lastRun)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        tenant = try reader.readOptionalString()
        document = try reader.readBytes()
        updated = try reader.readInt64()
        lastRun = try reader.readOptionalInt64()
    }
}

/// One notification in the outbox: for one rule and one recipient, written in the transaction of the
/// event that causes it and delivered at least once by the delivery job.
public struct NotificationRecord: StoredRecord, Hashable {
    public static let table = "notifications"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public enum State: String, Sendable, CaseIterable {
        /// Waiting for its next attempt (`nextAttempt`).
        case pending
        case delivered
        /// Given up after the last attempt; `lastError` says why.
        case failed
    }

    /// Derived from rule, event and recipient, so that one event notifies each recipient of a rule once.
    public var id: String
    public var rule: String
    public var channel: String
    public var tenant: String?
    /// A mail address, or the webhook's URL.
    public var recipient: String
    /// What caused it: an audit action (`certificate.revoke`), `expiry` or `report`.
    public var event: String
    /// The event's identity within the rule (`audit/1234`, `expiry/30/ca/serial`, `report/<time>`).
    public var eventKey: String
    public var subject: String
    /// The JSON document a webhook receives; mail carries it as text.
    public var payload: [UInt8]
    /// A CSV attached to a report's mail.
    public var attachment: [UInt8]?
    public var created: Int64
    public var state: State
    public var attempts: Int
    public var nextAttempt: Int64
    public var lastError: String?
    public var delivered: Int64?

    public init(
        id: String,
        rule: String,
        channel: String,
        tenant: String?,
        recipient: String,
        event: String,
        eventKey: String,
        subject: String,
        payload: [UInt8],
        attachment: [UInt8]? = nil,
        created: Int64,
        state: State = .pending,
        attempts: Int = 0,
        nextAttempt: Int64,
        lastError: String? = nil,
        delivered: Int64? = nil
    ) {
        self.id = id
        self.rule = rule
        self.channel = channel
        self.tenant = tenant
        self.recipient = recipient
        self.event = event
        self.eventKey = eventKey
        self.subject = subject
        self.payload = payload
        self.attachment = attachment
        self.created = created
        self.state = state
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.lastError = lastError
        self.delivered = delivered
    }

    public var primaryKey: Key { Self.key(id: id) }
    public static func key(id: String) -> Key { Key().appending(id) }

    public var indexEntries: [IndexEntry] {
        var entries = [IndexEntry("created", Key().appending(created).appending(id))]
        // Only pending notifications are due; the delivery job reads this index up to now.
        if state == .pending { entries.append(IndexEntry("due", Key().appending(nextAttempt).appending(id))) }
        if state == .failed { entries.append(IndexEntry("failed", Key().appending(created).appending(id))) }
        return entries
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(rule)
        writer.write(channel)
        writer.write(tenant)
        writer.write(recipient)
        writer.write(event)
        writer.write(eventKey)
        writer.write(subject)
        writer.write(payload)
        writer.write(attachment)
        writer.write(created)
        writer.write(state.rawValue)
        writer.write(attempts)
        writer.write(nextAttempt)
        writer.write(lastError)
        writer.write(delivered)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        rule = try reader.readString()
        channel = try reader.readString()
        tenant = try reader.readOptionalString()
        recipient = try reader.readString()
        event = try reader.readString()
        eventKey = try reader.readString()
        subject = try reader.readString()
        payload = try reader.readBytes()
        attachment = try reader.readOptionalBytes()
        created = try reader.readInt64()
        state = try reader.readEnum(State.self)
        attempts = try reader.readInt()
        nextAttempt = try reader.readInt64()
        lastError = try reader.readOptionalString()
        delivered = try reader.readOptionalInt64()
    }
}

extension MetadataReading {
    public func notificationChannel(_ name: String) throws -> NotificationChannelRecord? {
        try record(NotificationChannelRecord.self, key: Key().appending(name))
    }

    public func notificationRule(_ name: String) throws -> NotificationRuleRecord? {
        try record(NotificationRuleRecord.self, key: Key().appending(name))
    }

    public func notification(id: String) throws -> NotificationRecord? {
        try record(NotificationRecord.self, key: NotificationRecord.key(id: id))
    }

    /// Pending notifications whose next attempt is at `time` (nanoseconds since 1970) or before, soonest
    /// first.
    public func dueNotifications(at time: Int64, limit: Int) throws -> [NotificationRecord] {
        try keys(NotificationRecord.self, index: "due", from: Key(), to: Key().appending(time + 1), limit: limit)
            .compactMap { try record(NotificationRecord.self, key: $0) }
    }

    /// How many notifications have failed (counted up to `limit`).
    public func failedNotificationCount(limit: Int) throws -> Int {
        try keys(NotificationRecord.self, index: "failed", from: Key(), to: Key().appending(Int64.max), limit: limit)
            .count
    }

    /// Notifications in the order they were made, after the one made at `created` with `id` (from the
    /// start when nil).
    public func notifications(after position: (created: Int64, id: String)?, limit: Int) throws
        -> [NotificationRecord]
    {
        let lower = position.map { Key(bytes: Key().appending($0.created).appending($0.id).prefixEnd ?? []) } ?? Key()
        return try keys(
            NotificationRecord.self,
            index: "created",
            from: lower,
            to: Key().appending(Int64.max),
            limit: limit
        )
        .compactMap { try record(NotificationRecord.self, key: $0) }
    }
}

extension MetadataWriting {
    @discardableResult
    public func removeNotificationChannel(_ name: String) throws -> Bool {
        try remove(NotificationChannelRecord.self, key: Key().appending(name))
    }

    @discardableResult
    public func removeNotificationRule(_ name: String) throws -> Bool {
        try remove(NotificationRuleRecord.self, key: Key().appending(name))
    }
}
