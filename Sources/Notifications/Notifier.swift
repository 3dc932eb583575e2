public import APIModels
import Foundation
public import MetadataStore
public import Vault

/// Notification channels and rules as operators set them, and the outbox as they watch it. Every
/// change is audited (`notification.*`, which never notifies itself). A caller limited to a tenant sees
/// and changes only that tenant's channels, rules and notifications.
public struct Notifier: Sendable, SettingsStore {
    /// The store without the outbox hook: settings writes cause no notifications.
    public let store: any MetadataBackend
    public let vault: Vault

    public init(store: any MetadataBackend, vault: Vault) {
        self.store = store
        self.vault = vault
    }

    // MARK: Channels

    /// Creates or replaces the channel `name`. The vault secrets it names must exist (their values are
    /// not read); a channel that rules use keeps its kind.
    public func setChannel(
        _ body: NotificationChannelBody,
        name: String,
        tenantLimit: String?,
        requester: Requester
    ) async throws(NotificationError) -> NotificationChannelBody {
        var channel = try NotificationSettings.validate(channel: body, name: name)
        channel.tenant = try Self.tenant(body.tenant, limit: tenantLimit)
        for (reference, field) in [
            (channel.webhook?.secret, "webhook.secret"), (channel.mail?.password, "mail.password"),
        ] {
            guard let reference else { continue }
            do {
                _ = try await vault.secretVersions(namespace: reference.namespace, path: reference.path)
            } catch {
                throw NotificationError(
                    .invalidInput,
                    "\(field): the vault has no secret \(reference.path) in namespace \(reference.namespace)"
                )
            }
        }
        let document = try Self.encode(channel)
        let stored = channel
        try await write { txn in
            if let existing = try txn.notificationChannel(name) {
                guard tenantLimit == nil || existing.tenant == tenantLimit else {
                    throw NotificationError(.forbidden, "the channel \(name) belongs to another tenant")
                }
                let old = try? JSONDecoder().decode(NotificationChannelBody.self, from: Data(existing.document))
                let users = try Self.rules(in: txn).filter { $0.body.channel == name }
                if old?.kind != stored.kind, let user = users.first {
                    throw NotificationError(
                        .invalidInput,
                        "the rule \(user.name) sends through \(name): a channel in use keeps its kind"
                    )
                }
                if let user = users.first(where: { $0.tenant != stored.tenant && stored.tenant != nil }) {
                    throw NotificationError(.invalidInput, "the rule \(user.name) of another tenant uses \(name)")
                }
            }
            try txn.save(
                NotificationChannelRecord(
                    name: name,
                    tenant: stored.tenant,
                    document: document,
                    updated: try txn.clock()
                )
            )
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "notification.channel.set",
                    object: "notification-channel/\(name)",
                    outcome: "success: " + stored.kind,
                    requestID: requester.requestID
                )
            )
        }
        return channel
    }

    public func channels(tenantLimit: String?) async throws(NotificationError) -> [NotificationChannelBody] {
        try await read { reader in
            try reader.records(NotificationChannelRecord.self, after: nil, limit: .max)
                .filter { tenantLimit == nil || $0.tenant == tenantLimit }
                .compactMap { try? JSONDecoder().decode(NotificationChannelBody.self, from: Data($0.document)) }
        }
    }

    public func channel(_ name: String, tenantLimit: String?) async throws(NotificationError)
        -> NotificationChannelBody
    {
        guard let channel = try await channels(tenantLimit: tenantLimit).first(where: { $0.name == name }) else {
            throw NotificationError(.unknownChannel, "no notification channel \(name)")
        }
        return channel
    }

    /// Removes a channel no rule uses.
    public func deleteChannel(_ name: String, tenantLimit: String?, requester: Requester)
        async throws(NotificationError)
    {
        _ = try await channel(name, tenantLimit: tenantLimit)
        try await write { txn in
            if let user = try Self.rules(in: txn).first(where: { $0.body.channel == name }) {
                throw NotificationError(.channelInUse, "the rule \(user.name) sends through \(name)")
            }
            try txn.removeNotificationChannel(name)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "notification.channel.delete",
                    object: "notification-channel/\(name)",
                    outcome: "success",
                    requestID: requester.requestID
                )
            )
        }
    }

    // MARK: Rules

    /// Creates or replaces the rule `name`. Its channel must exist and be the rule's tenant's (or
    /// shared); a CA it names must exist and be the tenant's.
    public func setRule(
        _ body: NotificationRuleBody,
        name: String,
        tenantLimit: String?,
        requester: Requester
    ) async throws(NotificationError) -> NotificationRuleBody {
        let tenant = try Self.tenant(body.tenant, limit: tenantLimit)
        let channels = try await channels(tenantLimit: nil)
        guard let channel = channels.first(where: { $0.name == body.channel }),
            channel.tenant == nil || channel.tenant == tenant
        else {
            throw NotificationError(.invalidInput, "channel: no notification channel \(body.channel) for this rule")
        }
        var rule = try NotificationSettings.validate(rule: body, name: name, channel: channel)
        rule.tenant = tenant
        for ca in [rule.expiry?.ca, rule.report?.ca, rule.renew?.ca].compactMap({ $0 }) {
            let record = try await read { reader in try reader.ca(id: ca) }
            guard let record, tenant == nil || record.tenant == tenant else {
                throw NotificationError(.invalidInput, "no CA \(ca)\(tenant.map { " of tenant \($0)" } ?? "")")
            }
        }
        let document = try Self.encode(rule)
        let channelName = rule.channel
        try await write { txn in
            let existing = try txn.notificationRule(name)
            if let existing, tenantLimit != nil, existing.tenant != tenantLimit {
                throw NotificationError(.forbidden, "the rule \(name) belongs to another tenant")
            }
            try txn.save(
                NotificationRuleRecord(name: name, tenant: tenant, document: document, updated: try txn.clock())
            )
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "notification.rule.set",
                    object: "notification-rule/\(name)",
                    outcome: "success: through \(channelName)",
                    requestID: requester.requestID
                )
            )
        }
        return rule
    }

    public func rules(tenantLimit: String?) async throws(NotificationError) -> [NotificationRuleBody] {
        try await read { reader in
            try Self.rules(in: reader).filter { tenantLimit == nil || $0.tenant == tenantLimit }.map(\.body)
        }
    }

    public func rule(_ name: String, tenantLimit: String?) async throws(NotificationError) -> NotificationRuleBody {
        guard let rule = try await rules(tenantLimit: tenantLimit).first(where: { $0.name == name }) else {
            throw NotificationError(.unknownRule, "no notification rule \(name)")
        }
        return rule
    }

    /// Removes a rule; its notifications already in the outbox are still delivered.
    public func deleteRule(_ name: String, tenantLimit: String?, requester: Requester) async throws(NotificationError) {
        _ = try await rule(name, tenantLimit: tenantLimit)
        try await write { txn in
            try txn.removeNotificationRule(name)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "notification.rule.delete",
                    object: "notification-rule/\(name)",
                    outcome: "success",
                    requestID: requester.requestID
                )
            )
        }
    }

    // MARK: The outbox

    /// A page of notifications in the order they were made, optionally of one state or rule; `cursor`
    /// (the last page's `next`) continues after the page. At most 100,000 are looked at per page.
    public func notifications(
        tenantLimit: String?,
        state: NotificationRecord.State?,
        rule: String?,
        cursor: String?,
        limit: Int
    ) async throws(NotificationError) -> (notifications: [NotificationRecord], next: String?) {
        var position: (created: Int64, id: String)?
        if let cursor {
            let parts = cursor.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let created = Int64(parts[0]) else {
                throw NotificationError(.invalidInput, "cursor is not one this API gave")
            }
            position = (created, String(parts[1]))
        }
        let start = position
        return try await read { reader in
            var found: [NotificationRecord] = []
            var position = start
            var scanned = 0
            while found.count < limit && scanned < 100_000 {
                let page = try reader.notifications(after: position, limit: 500)
                scanned += page.count
                for record in page {
                    position = (record.created, record.id)
                    guard tenantLimit == nil || record.tenant == tenantLimit,
                        state == nil || record.state == state, rule == nil || record.rule == rule
                    else { continue }
                    found.append(record)
                    if found.count == limit { break }
                }
                if page.count < 500 { break }
            }
            let next = found.count == limit ? found.last.map { "\($0.created).\($0.id)" } : nil
            return (found, next)
        }
    }

    public func notification(_ id: String, tenantLimit: String?) async throws(NotificationError) -> NotificationRecord {
        let record = try await read { reader in try reader.notification(id: id) }
        guard let record, tenantLimit == nil || record.tenant == tenantLimit else {
            throw NotificationError(.unknownNotification, "no notification \(id)")
        }
        return record
    }

    /// Makes a failed notification due again, with a fresh set of attempts.
    public func retry(_ id: String, tenantLimit: String?, requester: Requester) async throws(NotificationError)
        -> NotificationRecord
    {
        _ = try await notification(id, tenantLimit: tenantLimit)
        return try await write { txn in
            guard var record = try txn.notification(id: id) else {
                throw NotificationError(.unknownNotification, "no notification \(id)")
            }
            guard record.state == .failed else {
                throw NotificationError(
                    .invalidInput,
                    "only a failed notification is retried; this one is \(record.state.rawValue)"
                )
            }
            record.state = .pending
            record.attempts = 0
            record.nextAttempt = try txn.clock()
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "notification.retry",
                    object: "notification/\(id)",
                    outcome: "success",
                    requestID: requester.requestID
                )
            )
            return record
        }
    }

    // MARK: Helpers

    static func tenant(_ asked: String?, limit: String?) throws(NotificationError) -> String? {
        guard let limit else { return asked }
        guard asked == nil || asked == limit else {
            throw NotificationError(.forbidden, "this credential is limited to tenant \"\(limit)\"")
        }
        return limit
    }

    static func encode<T: Encodable>(_ value: T) throws(NotificationError) -> [UInt8] {
        do { return Array(try NotificationOutbox.encoder.encode(value)) } catch {
            throw NotificationError(.internalError, "\(error)")
        }
    }

    /// Every rule with its channel's kind.
    static func rules(in reader: any MetadataReading) throws -> [NotificationOutbox.Rule] {
        var kinds: [String: String] = [:]
        for record in try reader.records(NotificationChannelRecord.self, after: nil, limit: .max) {
            if let channel = try? JSONDecoder().decode(NotificationChannelBody.self, from: Data(record.document)) {
                kinds[record.name] = channel.kind
            }
        }
        return try reader.records(NotificationRuleRecord.self, after: nil, limit: .max).compactMap { record in
            guard let body = try? JSONDecoder().decode(NotificationRuleBody.self, from: Data(record.document)) else {
                return nil
            }
            return NotificationOutbox.Rule(
                name: record.name,
                tenant: record.tenant,
                body: body,
                channelKind: kinds[body.channel] ?? "webhook"
            )
        }
    }
}
