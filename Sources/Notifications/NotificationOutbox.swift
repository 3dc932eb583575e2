import APIModels
import Codecs
import Crypto
import Foundation
import MetadataStore
import Synchronization

/// The outbox's entrance: notifications for the rules an audited event matches, written by the event's
/// own transaction (`NotifyingBackend`), so that an event is never stored without its notifications nor
/// a notification without its event.
public final class NotificationOutbox: Sendable {
    /// A rule as the outbox matches it.
    struct Rule: Sendable {
        var name: String
        var tenant: String?
        var body: NotificationRuleBody
        /// `mail`, `webhook` or `snmp`: what its channel is (a channel in use keeps its kind).
        var channelKind: String

        /// Who is told: the rule's addresses for mail, else the channel itself (its kind).
        var recipients: [String] { channelKind == "mail" ? body.recipients ?? [] : [channelKind] }
    }

    private struct Snapshot {
        var stamp: UInt64
        var rules: [Rule]
        /// Event rules only: what an audited write matches against.
        var eventRules: [Rule]
    }

    private let snapshot = Mutex<Snapshot?>(nil)

    public init() {}

    /// The rules as committed at the table's current change stamp, read again only when it moved.
    /// Called before each write, outside its transaction: a rule set concurrently applies from the next
    /// write on.
    func rules(_ store: any MetadataBackend) async throws -> (all: [Rule], events: [Rule]) {
        let known = try await store.knownChangeStamp(NotificationRuleRecord.self)
        if let kept = snapshot.withLock({ $0?.stamp == known ? $0 : nil }) { return (kept.rules, kept.eventRules) }
        let (stamp, rules) = try await store.read { reader in
            (try reader.changeStamp(NotificationRuleRecord.self), try Notifier.rules(in: reader))
        }
        let fresh = Snapshot(
            stamp: stamp,
            rules: rules,
            eventRules: rules.filter { $0.body.enabled != false && $0.body.events != nil }
        )
        snapshot.withLock { if ($0?.stamp ?? 0) <= stamp { $0 = fresh } }
        return (fresh.rules, fresh.eventRules)
    }

    /// Writes the notifications `entry` causes under `rules` into `txn`.
    func enqueue(_ entry: AuditEntry, rules: [Rule], in txn: any MetadataWriting) throws {
        guard NotificationEvents.mayNotify(entry.event) else { return }
        var tenant: String??
        for rule in rules where rule.body.events?.contains(entry.event.action) == true {
            if let wanted = rule.tenant {
                if tenant == nil { tenant = .some(try Self.tenant(of: entry.event.object, in: txn)) }
                guard tenant == .some(wanted) else { continue }
            }
            let payload = EventPayload(
                rule: rule.name,
                event: entry.event.action,
                sequence: entry.sequence,
                time: Date(timeIntervalSince1970: Double(entry.event.time) / 1e9),
                actor: entry.event.actor,
                object: entry.event.object,
                outcome: entry.event.outcome,
                tenant: rule.tenant
            )
            for recipient in rule.recipients {
                try Self.insert(
                    rule: rule,
                    recipient: recipient,
                    event: entry.event.action,
                    eventKey: "audit/\(entry.sequence)",
                    subject: "Custos: \(entry.event.action) \(entry.event.object)",
                    payload: try Self.encoder.encode(payload),
                    at: entry.event.time,
                    in: txn
                )
            }
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// Writes one notification unless the same rule already notified `recipient` of `eventKey` (a job
    /// that runs twice, a report evaluated on two nodes): once per rule, event and recipient.
    @discardableResult
    static func insert(
        rule: Rule,
        recipient: String,
        event: String,
        eventKey: String,
        subject: String,
        payload: Data,
        attachment: [UInt8]? = nil,
        at time: Int64,
        in txn: any MetadataWriting
    ) throws -> Bool {
        let id = Self.id(rule: rule.name, eventKey: eventKey, recipient: recipient)
        guard try txn.notification(id: id) == nil else { return false }
        try txn.save(
            NotificationRecord(
                id: id,
                rule: rule.name,
                channel: rule.body.channel,
                tenant: rule.tenant,
                recipient: recipient,
                event: event,
                eventKey: eventKey,
                subject: subject,
                payload: Array(payload),
                attachment: attachment,
                created: time,
                nextAttempt: time
            )
        )
        return true
    }

    /// 32 hex digits derived from what makes a notification unique.
    static func id(rule: String, eventKey: String, recipient: String) -> String {
        let digest = SHA256.hash(data: Array("\(rule)\u{0}\(eventKey)\u{0}\(recipient)".utf8))
        return Hex.encode(Array(digest.prefix(16)))
    }

    /// The tenant of the CA an audit object belongs to (`certificate/<ca>/…`, `ca/<ca>`, `crl/<ca>…`,
    /// `enrollment-request/<id>`); nil when it names no CA.
    static func tenant(of object: String, in reader: any MetadataReading) throws -> String? {
        let parts = object.split(separator: "/", maxSplits: 2).map(String.init)
        guard parts.count >= 2 else { return nil }
        var ca: String?
        switch parts[0] {
        case "certificate", "ca", "crl": ca = parts[1].split(separator: ":").first.map(String.init)
        case "enrollment-request":
            if let request = try reader.enrollmentRequest(id: parts[1]),
                let profile = try reader.enrollmentProfile(id: request.profile)
            {
                ca = profile.ca
            }
        default: ca = nil
        }
        guard let ca, let record = try reader.ca(id: ca) else { return nil }
        return record.tenant
    }
}

/// What a webhook receives for an audited event (mail carries the same as text).
struct EventPayload: Codable {
    var rule: String
    var event: String
    var sequence: UInt64
    var time: Date
    var actor: String
    var object: String
    var outcome: String
    var tenant: String?
}
