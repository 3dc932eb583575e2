import APIModels
public import CA
public import Foundation
public import Logging
import Mail
public import MetadataStore

/// The notifications no single event causes: expiry warnings with their escalation stages, and
/// scheduled reports. Each run writes what became due since the last; a notification is written once
/// per rule, stage (or report run) and recipient, so a run repeated on another node adds nothing.
public struct NotificationScheduler: Sendable {
    /// The store without the outbox hook.
    let store: any MetadataBackend
    let logger: Logger
    /// Renews and supersedes for `renew` rules (its writes go through the outbox hook).
    let authority: CertificateAuthority?

    public init(store: any MetadataBackend, logger: Logger, authority: CertificateAuthority? = nil) {
        self.store = store
        self.logger = logger
        self.authority = authority
    }

    /// Evaluates every enabled expiry rule and the report rules that are due; returns the notifications
    /// written.
    @discardableResult
    public func run(now: Date = Date()) async throws -> Int {
        let (rules, tenants) = try await store.read { reader in
            (
                try Notifier.rules(in: reader),
                Dictionary(
                    try reader.records(CARecord.self, after: nil, limit: .max).map { ($0.id, $0.tenant) },
                    uniquingKeysWith: { first, _ in first }
                )
            )
        }
        var written = 0
        for rule in rules where rule.body.enabled != false {
            do {
                if rule.body.expiry != nil {
                    let mail = rule.channelKind == "mail"
                    written += try await expiry(rule, mail: mail, tenants: tenants, now: now)
                }
                if rule.body.report != nil { written += try await report(rule, tenants: tenants, now: now) }
                if rule.body.renew != nil { written += try await renew(rule, tenants: tenants, now: now) }
            } catch {
                logger.error(
                    "a notification rule could not be evaluated",
                    metadata: ["rule": "\(rule.name)", "reason": "\(error)"]
                )
            }
        }
        return written
    }

    private func expiry(_ rule: NotificationOutbox.Rule, mail: Bool, tenants: [String: String], now: Date) async throws
        -> Int
    {
        guard let expiry = rule.body.expiry else { return 0 }
        let (warnings, _) = try await CertificateReports(store: store).expiryWarnings(
            stages: expiry.stages.map { ExpiryStage(name: $0.name, daysBefore: $0.daysBefore) },
            ownerKey: expiry.ownerKey ?? "owner",
            now: now
        )
        let mine = warnings.filter { warning in
            (expiry.ca == nil || warning.ca == expiry.ca) && (rule.tenant == nil || tenants[warning.ca] == rule.tenant)
        }
        let time = Int64(now.timeIntervalSince1970 * 1e9)
        var written = 0
        for batch in stride(from: 0, to: mine.count, by: 500).map({ Array(mine[$0..<min($0 + 500, mine.count)]) }) {
            let items = batch.compactMap { warning -> (ExpiryPayload, [String])? in
                guard let stage = expiry.stages.first(where: { $0.name == warning.stage }) else { return nil }
                let owner = warning.owner.flatMap { MailMessage.isValidAddress($0) ? $0 : nil }
                let addressed = Array(Set(stage.recipients.compactMap { $0 == "owner" ? owner : $0 })).sorted()
                let payload = ExpiryPayload(
                    rule: rule.name,
                    event: "expiry",
                    stage: stage.name,
                    ca: warning.ca,
                    serial: warning.serial,
                    subject: warning.subject,
                    notAfter: Date(timeIntervalSince1970: Double(warning.notAfter) / 1e9),
                    // Days begun count: 4.2 days left is "5 days"; an expired one counts back from -1.
                    daysLeft: Int((Double(warning.notAfter - time) / 86_400e9).rounded(.up))
                        - (warning.notAfter <= time ? 1 : 0),
                    owner: warning.owner,
                    recipients: addressed
                )
                if warning.owner == nil && stage.recipients.contains("owner") {
                    logger.notice(
                        "a certificate near its end has no owner to warn",
                        metadata: ["rule": "\(rule.name)", "ca": "\(warning.ca)", "serial": "\(warning.serial)"]
                    )
                }
                return (payload, mail ? addressed : rule.recipients)
            }
            let encoded = try items.map { (try NotificationOutbox.encoder.encode($0.0), $0.0, $0.1) }
            written += try await store.write { txn in
                var count = 0
                for (data, payload, recipients) in encoded {
                    let expired = payload.daysLeft < 0
                    let subject =
                        "Custos: certificate \(payload.subject) "
                        + (expired ? "has expired" : "expires in \(payload.daysLeft) days") + " (\(payload.stage))"
                    for recipient in recipients {
                        let added = try NotificationOutbox.insert(
                            rule: rule,
                            recipient: recipient,
                            event: "expiry",
                            eventKey: "expiry/\(payload.stage)/\(payload.ca)/\(payload.serial)",
                            subject: subject,
                            payload: data,
                            at: time,
                            in: txn
                        )
                        if added { count += 1 }
                    }
                }
                return count
            }
        }
        return written
    }

    private func report(_ rule: NotificationOutbox.Rule, tenants: [String: String], now: Date) async throws -> Int {
        guard let report = rule.body.report else { return 0 }
        let time = Int64(now.timeIntervalSince1970 * 1e9)
        let period = Int64(report.everyHours) * 3_600_000_000_000
        let last = try await store.read { reader in
            try reader.notificationRule(rule.name)?.lastRun
        }
        if let last, time - last < period { return 0 }
        let query = CertificateQuery(
            ca: report.ca,
            status: report.status.flatMap(CertificateRecord.Status.init(rawValue:)),
            text: report.text,
            metadata: report.metadata ?? [:],
            expiresAfter: report.expiringWithinDays == nil ? nil : now,
            expiresBefore: report.expiringWithinDays.map { now.addingTimeInterval(Double($0) * 86_400) }
        )
        let records = try await CertificateSearch(store: store).all(query, limit: 100_000).filter {
            rule.tenant == nil || tenants[$0.issuer] == rule.tenant
        }
        let csv = CertificateCSV.render(records)
        let payload = ReportPayload(rule: rule.name, event: "report", generated: now, count: records.count, csv: csv)
        let data = try NotificationOutbox.encoder.encode(payload)
        let recipients = rule.recipients
        let subject = "Custos report \(rule.name): \(records.count) certificate\(records.count == 1 ? "" : "s")"
        return try await store.write { txn in
            guard var record = try txn.notificationRule(rule.name) else {
                return 0
            }
            // Another node ran it meanwhile.
            if let last = record.lastRun, time - last < period { return 0 }
            record.lastRun = time
            try txn.save(record)
            var count = 0
            for recipient in recipients {
                let added = try NotificationOutbox.insert(
                    rule: rule,
                    recipient: recipient,
                    event: "report",
                    eventKey: "report/\(time)",
                    subject: subject,
                    payload: data,
                    attachment: rule.channelKind == "mail" ? Array(csv.utf8) : nil,
                    at: time,
                    in: txn
                )
                if added { count += 1 }
            }
            return count
        }
    }
}

/// What an expiry warning carries.
struct ExpiryPayload: Codable {
    var rule: String
    var event: String
    var stage: String
    var ca: String
    var serial: String
    var subject: String
    var notAfter: Date
    /// Negative once expired.
    var daysLeft: Int
    var owner: String?
    /// The stage's addresses (the owner's resolved).
    var recipients: [String]
}

/// What a scheduled report carries (mail has the CSV attached instead of inline).
struct ReportPayload: Codable {
    var rule: String
    var event: String
    var generated: Date
    var count: Int
    var csv: String
}
