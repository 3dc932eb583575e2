import APIModels
import Foundation
import Mail
import NIOSSL

/// Checks channels and rules as they are set, so that a bad one is refused with the field named
/// instead of failing at delivery. Answers the normalized form that is stored.
enum NotificationSettings {
    static func validName(_ name: String, _ what: String) throws(NotificationError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard (1...64).contains(name.count), name.allSatisfy({ allowed.contains($0) }) else {
            throw NotificationError(.invalidInput, "\(what) must be 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    static func validate(channel body: NotificationChannelBody, name: String) throws(NotificationError)
        -> NotificationChannelBody
    {
        try validName(name, "the channel name")
        var channel = body
        channel.name = name
        switch (body.webhook, body.mail, body.snmp) {
        case (let webhook?, nil, nil): channel.webhook = try validate(webhook)
        case (nil, let mail?, nil): channel.mail = try validate(mail)
        case (nil, nil, true?): break
        default: throw NotificationError(.invalidInput, "a channel has exactly one of webhook, mail and snmp (true)")
        }
        return channel
    }

    static func validate(_ webhook: WebhookChannelBody) throws(NotificationError) -> WebhookChannelBody {
        guard let url = URL(string: webhook.url), let scheme = url.scheme?.lowercased(), let host = url.host,
            !host.isEmpty, scheme == "https" || scheme == "http", url.user == nil, url.password == nil
        else {
            throw NotificationError(.invalidInput, "webhook.url must be an https:// URL without credentials")
        }
        // The HMAC proves the sender, not secrecy: certificates' subjects leave only over TLS, except to a
        // receiver on this host.
        if scheme == "http" && !["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased()) {
            throw NotificationError(.invalidInput, "webhook.url must be https:// (http:// only to this host)")
        }
        if let timeout = webhook.timeoutSeconds, !(1...60).contains(timeout) {
            throw NotificationError(.invalidInput, "webhook.timeoutSeconds must be from 1 to 60")
        }
        try validate(webhook.secret, "webhook.secret")
        var normalized = webhook
        normalized.timeoutSeconds = webhook.timeoutSeconds ?? 10
        return normalized
    }

    static func validate(_ reference: VaultSecretReference, _ field: String) throws(NotificationError) {
        guard !reference.namespace.isEmpty, !reference.path.isEmpty else {
            throw NotificationError(.invalidInput, "\(field) needs a vault namespace and path")
        }
    }

    static func validate(_ mail: MailChannelBody) throws(NotificationError) -> MailChannelBody {
        var normalized = mail
        guard !mail.host.isEmpty, mail.host.count <= 253, !mail.host.contains(where: { $0.isWhitespace || $0 == "/" })
        else { throw NotificationError(.invalidInput, "mail.host must be a host name or address") }
        let security = mail.security ?? "starttls"
        guard let parsed = SMTPSecurity(rawValue: security) else {
            throw NotificationError(.invalidInput, "mail.security must be tls, starttls or none")
        }
        normalized.security = security
        let port = mail.port ?? (parsed == .tls ? 465 : parsed == .starttls ? 587 : 25)
        guard (1...65535).contains(port) else { throw NotificationError(.invalidInput, "mail.port must be 1 to 65535") }
        normalized.port = port
        guard MailMessage.isValidAddress(mail.from) else {
            throw NotificationError(.invalidInput, "mail.from must be an address such as custos@example.com")
        }
        switch (mail.username, mail.password) {
        case (nil, nil):
            guard mail.mechanism == nil else {
                throw NotificationError(.invalidInput, "mail.mechanism needs mail.username and mail.password")
            }
        case (let username?, let password?):
            guard !username.isEmpty, !username.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw NotificationError(.invalidInput, "mail.username must not be empty")
            }
            try validate(password, "mail.password")
            guard parsed != .none else {
                throw NotificationError(
                    .invalidInput,
                    "mail.password is sent over TLS only: mail.security tls or starttls"
                )
            }
            if let mechanism = mail.mechanism {
                guard let known = SMTPAuthMechanism(rawValue: mechanism.uppercased()) else {
                    throw NotificationError(.invalidInput, "mail.mechanism must be PLAIN or LOGIN")
                }
                normalized.mechanism = known.rawValue
            }
        default: throw NotificationError(.invalidInput, "mail.username and mail.password go together")
        }
        if let pem = mail.trustedCertificates {
            guard (try? NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))?.isEmpty == false else {
                throw NotificationError(.invalidInput, "mail.trustedCertificates must be PEM certificates")
            }
        }
        if let timeout = mail.timeoutSeconds, !(1...120).contains(timeout) {
            throw NotificationError(.invalidInput, "mail.timeoutSeconds must be from 1 to 120")
        }
        normalized.timeoutSeconds = mail.timeoutSeconds ?? 30
        return normalized
    }

    /// `channel`: the channel the rule names, as stored.
    static func validate(rule body: NotificationRuleBody, name: String, channel: NotificationChannelBody)
        throws(NotificationError) -> NotificationRuleBody
    {
        try validName(name, "the rule name")
        var rule = body
        rule.name = name
        rule.enabled = body.enabled ?? true
        let mail = channel.kind == "mail"
        let kinds = [body.events != nil, body.expiry != nil, body.report != nil, body.renew != nil].filter { $0 }.count
        guard kinds == 1 else {
            throw NotificationError(.invalidInput, "a rule has exactly one of events, expiry, report and renew")
        }
        if let recipients = body.recipients {
            guard mail else {
                throw NotificationError(
                    .invalidInput,
                    "recipients apply to mail channels; a webhook or SNMP channel has its own"
                )
            }
            guard body.expiry == nil else {
                throw NotificationError(.invalidInput, "an expiry rule names its recipients in each stage")
            }
            try validate(recipients: recipients, owner: false, field: "recipients")
        } else if mail && body.expiry == nil {
            throw NotificationError(.invalidInput, "recipients: a mail channel needs at least one address")
        }
        if let events = body.events {
            guard !events.isEmpty else { throw NotificationError(.invalidInput, "events must name at least one event") }
            for event in events where NotificationEvents.known[event] == nil {
                throw NotificationError(
                    .invalidInput,
                    "events: unknown event \"\(event)\"; one of "
                        + NotificationEvents.known.keys.sorted().joined(separator: ", ")
                )
            }
            rule.events = Array(Set(events)).sorted()
        }
        if let expiry = body.expiry {
            guard (1...10).contains(expiry.stages.count) else {
                throw NotificationError(.invalidInput, "expiry.stages must have 1 to 10 stages")
            }
            guard Set(expiry.stages.map(\.name)).count == expiry.stages.count,
                Set(expiry.stages.map(\.daysBefore)).count == expiry.stages.count
            else { throw NotificationError(.invalidInput, "expiry.stages need distinct names and days") }
            for (index, stage) in expiry.stages.enumerated() {
                try validName(stage.name, "expiry.stages[\(index)].name")
                guard (0...3650).contains(stage.daysBefore) else {
                    throw NotificationError(.invalidInput, "expiry.stages[\(index)].daysBefore must be from 0 to 3650")
                }
                if mail {
                    try validate(recipients: stage.recipients, owner: true, field: "expiry.stages[\(index)].recipients")
                }
            }
            if let key = expiry.ownerKey, key.isEmpty || key.count > 64 {
                throw NotificationError(.invalidInput, "expiry.ownerKey must be 1 to 64 characters")
            }
            rule.expiry?.ownerKey = expiry.ownerKey ?? "owner"
            rule.expiry?.stages = expiry.stages.sorted { $0.daysBefore > $1.daysBefore }
        }
        if let renew = body.renew {
            guard (1...3650).contains(renew.daysBefore) else {
                throw NotificationError(.invalidInput, "renew.daysBefore must be from 1 to 3650")
            }
            if let days = renew.validityDays, !(1...36_525).contains(days) {
                throw NotificationError(.invalidInput, "renew.validityDays must be from 1 to 36525")
            }
            if let days = renew.supersedeAfterDays, !(0...365).contains(days) {
                throw NotificationError(.invalidInput, "renew.supersedeAfterDays must be from 0 to 365")
            }
            if let metadata = renew.metadata, metadata.count > 16 {
                throw NotificationError(.invalidInput, "renew.metadata has at most 16 pairs")
            }
        }
        if let report = body.report {
            guard (1...744).contains(report.everyHours) else {
                throw NotificationError(.invalidInput, "report.everyHours must be from 1 to 744")
            }
            if let status = report.status, !["valid", "revoked"].contains(status) {
                throw NotificationError(.invalidInput, "report.status must be valid or revoked")
            }
            if let days = report.expiringWithinDays, !(1...3650).contains(days) {
                throw NotificationError(.invalidInput, "report.expiringWithinDays must be from 1 to 3650")
            }
        }
        return rule
    }

    static func validate(recipients: [String], owner: Bool, field: String) throws(NotificationError) {
        guard (1...50).contains(recipients.count) else {
            throw NotificationError(.invalidInput, "\(field) must have 1 to 50 entries")
        }
        for recipient in recipients where !(owner && recipient == "owner") && !MailMessage.isValidAddress(recipient) {
            throw NotificationError(
                .invalidInput,
                "\(field): \"\(recipient)\" is not an address such as someone@example.com"
                    + (owner ? " (or owner)" : "")
            )
        }
    }
}
