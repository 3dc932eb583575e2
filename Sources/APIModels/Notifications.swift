public import Foundation

/// Where a channel's secret lives in the vault (a webhook's HMAC key, a relay's password): the value
/// never travels through the notification API.
public struct VaultSecretReference: APIModel, Hashable {
    public var namespace: String
    public var path: String

    public init(namespace: String, path: String) {
        self.namespace = namespace
        self.path = path
    }

    public static let example = VaultSecretReference(namespace: "notifications", path: "ops-hook")
}

/// A webhook: JSON POSTed to `url`, signed with HMAC-SHA-256 under the vault secret.
public struct WebhookChannelBody: APIModel, Hashable {
    /// `https://` (or `http://` for a receiver on the same host).
    public var url: String
    public var secret: VaultSecretReference
    /// 1 to 60 seconds for the receiver's answer; 10 when absent.
    public var timeoutSeconds: Int?

    public init(url: String, secret: VaultSecretReference, timeoutSeconds: Int? = nil) {
        self.url = url
        self.secret = secret
        self.timeoutSeconds = timeoutSeconds
    }

    public static let example = WebhookChannelBody(
        url: "https://hooks.example.com/custos",
        secret: .example,
        timeoutSeconds: 10
    )
}

/// A mail relay: Custos' SMTP client submits mail there.
public struct MailChannelBody: APIModel, Hashable {
    public var host: String
    /// 465 for `tls`, 587 for `starttls`, 25 for `none` when absent.
    public var port: Int?
    /// `tls` (implicit), `starttls` or `none` (a relay on this host; no credentials); `starttls` when absent.
    public var security: String?
    /// The sender address.
    public var from: String
    public var username: String?
    /// The relay password in the vault (with `username`).
    public var password: VaultSecretReference?
    /// `PLAIN` or `LOGIN`; the relay's offer decides when absent (PLAIN first).
    public var mechanism: String?
    /// PEM certificates the relay's certificate must chain to; the system's trust roots when absent.
    public var trustedCertificates: String?
    /// 1 to 120 seconds for the whole submission; 30 when absent.
    public var timeoutSeconds: Int?

    public init(
        host: String,
        port: Int? = nil,
        security: String? = nil,
        from: String,
        username: String? = nil,
        password: VaultSecretReference? = nil,
        mechanism: String? = nil,
        trustedCertificates: String? = nil,
        timeoutSeconds: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.from = from
        self.username = username
        self.password = password
        self.mechanism = mechanism
        self.trustedCertificates = trustedCertificates
        self.timeoutSeconds = timeoutSeconds
    }

    public static let example = MailChannelBody(
        host: "smtp.example.com",
        port: 587,
        security: "starttls",
        from: "custos@example.com",
        username: "custos",
        password: VaultSecretReference(namespace: "notifications", path: "smtp-password"),
        mechanism: "PLAIN",
        trustedCertificates: "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n",
        timeoutSeconds: 30
    )
}

/// `PUT /v1/notification-channels/{name}`: exactly one of `webhook`, `mail` and `snmp`.
public struct NotificationChannelBody: APIModel, Hashable {
    /// Set from the path in a PUT; present in answers.
    public var name: String?
    /// The tenant whose rules may use it; none: any rule of an unlimited credential.
    public var tenant: String?
    public var webhook: WebhookChannelBody?
    public var mail: MailChannelBody?
    /// `true`: SNMP traps (custosEventTrap) through the master agent `snmp.agentx` names, to its trap sinks.
    public var snmp: Bool?

    public init(
        name: String? = nil,
        tenant: String? = nil,
        webhook: WebhookChannelBody? = nil,
        mail: MailChannelBody? = nil,
        snmp: Bool? = nil
    ) {
        self.name = name
        self.tenant = tenant
        self.webhook = webhook
        self.mail = mail
        self.snmp = snmp
    }

    /// `webhook`, `mail` or `snmp`.
    public var kind: String { webhook != nil ? "webhook" : mail != nil ? "mail" : "snmp" }

    public static let example = NotificationChannelBody(
        name: "ops",
        tenant: "acme",
        webhook: .example,
        mail: .example,
        snmp: true
    )
}

/// `GET /v1/notification-channels`.
public struct NotificationChannelList: APIModel {
    public var channels: [NotificationChannelBody]
    public init(channels: [NotificationChannelBody]) { self.channels = channels }
    public static let example = NotificationChannelList(channels: [.example])
}

/// One expiry stage: from `daysBefore` days before notAfter (0: once expired) notify `recipients`.
public struct ExpiryStageBody: APIModel, Hashable {
    public var name: String
    public var daysBefore: Int
    /// Mail addresses, and `owner` for the address in the certificate's owner metadata.
    public var recipients: [String]

    public init(name: String, daysBefore: Int, recipients: [String]) {
        self.name = name
        self.daysBefore = daysBefore
        self.recipients = recipients
    }

    public static let example = ExpiryStageBody(name: "first", daysBefore: 30, recipients: ["owner"])
}

/// Expiry warnings with escalation.
public struct ExpiryRuleBody: APIModel, Hashable {
    public var stages: [ExpiryStageBody]
    /// The metadata key naming a certificate's owner; `owner` when absent.
    public var ownerKey: String?
    /// Only certificates of this CA; every CA the rule's tenant reaches when absent.
    public var ca: String?

    public init(stages: [ExpiryStageBody], ownerKey: String? = nil, ca: String? = nil) {
        self.stages = stages
        self.ownerKey = ownerKey
        self.ca = ca
    }

    public static let example = ExpiryRuleBody(
        stages: [
            ExpiryStageBody(name: "first", daysBefore: 30, recipients: ["owner"]),
            ExpiryStageBody(name: "urgent", daysBefore: 7, recipients: ["owner", "lead@example.com"]),
            ExpiryStageBody(name: "expired", daysBefore: 0, recipients: ["security@example.com"]),
        ],
        ownerKey: "owner",
        ca: "issuing"
    )
}

/// A scheduled report: a saved certificate search, sent as CSV.
public struct ReportRuleBody: APIModel, Hashable {
    /// Hours between two reports (1 to 744).
    public var everyHours: Int
    /// The search: a CA, a status (`valid`, `revoked`), text in the subject or names, metadata pairs.
    public var ca: String?
    public var status: String?
    public var text: String?
    public var metadata: [String: String]?
    /// Only certificates expiring within this many days.
    public var expiringWithinDays: Int?

    public init(
        everyHours: Int,
        ca: String? = nil,
        status: String? = nil,
        text: String? = nil,
        metadata: [String: String]? = nil,
        expiringWithinDays: Int? = nil
    ) {
        self.everyHours = everyHours
        self.ca = ca
        self.status = status
        self.text = text
        self.metadata = metadata
        self.expiringWithinDays = expiringWithinDays
    }

    public static let example = ReportRuleBody(
        everyHours: 24,
        ca: "issuing",
        status: "valid",
        text: "line-4",
        metadata: ["line": "4"],
        expiringWithinDays: 30
    )
}

/// Automatic renewal: valid certificates of `ca` with all of `metadata` are renewed (same subject, names
/// and key, under the policy in force) `daysBefore` their end; the rule's channel receives the new
/// certificate; the old one is revoked as superseded `supersedeAfterDays` after its successor was issued.
public struct RenewRuleBody: APIModel, Hashable {
    public var ca: String
    /// 1 to 3650.
    public var daysBefore: Int
    /// Pairs a certificate must have to be renewed (`enrollment.profile`, …); none: every certificate of the CA.
    public var metadata: [String: String]?
    /// The new certificate's validity; the policy's default when absent.
    public var validityDays: Int?
    /// Revoke the old certificate (superseded) this many days after the renewal; never when absent.
    public var supersedeAfterDays: Int?

    public init(
        ca: String,
        daysBefore: Int,
        metadata: [String: String]? = nil,
        validityDays: Int? = nil,
        supersedeAfterDays: Int? = nil
    ) {
        self.ca = ca
        self.daysBefore = daysBefore
        self.metadata = metadata
        self.validityDays = validityDays
        self.supersedeAfterDays = supersedeAfterDays
    }

    public static let example = RenewRuleBody(
        ca: "line",
        daysBefore: 30,
        metadata: ["enrollment.profile": "factory"],
        validityDays: 365,
        supersedeAfterDays: 7
    )
}

/// `PUT /v1/notification-rules/{name}`: exactly one of `events`, `expiry`, `report` and `renew`.
public struct NotificationRuleBody: APIModel, Hashable {
    public var name: String?
    public var tenant: String?
    /// The channel it sends through.
    public var channel: String
    /// True when absent.
    public var enabled: Bool?
    /// Mail addresses for events and reports (a webhook channel has its URL as its one recipient).
    public var recipients: [String]?
    /// Audit actions that notify (see the operator guide's list).
    public var events: [String]?
    public var expiry: ExpiryRuleBody?
    public var report: ReportRuleBody?
    public var renew: RenewRuleBody?

    public init(
        name: String? = nil,
        tenant: String? = nil,
        channel: String,
        enabled: Bool? = nil,
        recipients: [String]? = nil,
        events: [String]? = nil,
        expiry: ExpiryRuleBody? = nil,
        report: ReportRuleBody? = nil,
        renew: RenewRuleBody? = nil
    ) {
        self.name = name
        self.tenant = tenant
        self.channel = channel
        self.enabled = enabled
        self.recipients = recipients
        self.events = events
        self.expiry = expiry
        self.report = report
        self.renew = renew
    }

    public static let example = NotificationRuleBody(
        name: "revocations",
        tenant: "acme",
        channel: "ops",
        enabled: true,
        recipients: ["pki-team@example.com"],
        events: ["certificate.revoke"],
        expiry: .example,
        report: .example,
        renew: .example
    )
}

/// `GET /v1/notification-rules`.
public struct NotificationRuleList: APIModel {
    public var rules: [NotificationRuleBody]
    public init(rules: [NotificationRuleBody]) { self.rules = rules }
    public static let example = NotificationRuleList(rules: [.example])
}

/// One notification in the outbox and its delivery state.
public struct NotificationView: APIModel, Hashable {
    public var id: String
    public var rule: String
    public var channel: String
    public var tenant: String?
    public var recipient: String
    /// The audit action, `expiry` or `report`.
    public var event: String
    public var subject: String
    public var created: Date
    /// `pending`, `delivered` or `failed`.
    public var state: String
    public var attempts: Int
    /// When a pending one is tried next.
    public var nextAttempt: Date?
    public var lastError: String?
    public var delivered: Date?

    public init(
        id: String,
        rule: String,
        channel: String,
        tenant: String?,
        recipient: String,
        event: String,
        subject: String,
        created: Date,
        state: String,
        attempts: Int,
        nextAttempt: Date?,
        lastError: String?,
        delivered: Date?
    ) {
        self.id = id
        self.rule = rule
        self.channel = channel
        self.tenant = tenant
        self.recipient = recipient
        self.event = event
        self.subject = subject
        self.created = created
        self.state = state
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.lastError = lastError
        self.delivered = delivered
    }

    public static let example = NotificationView(
        id: "3f2a9c0d5e7b1a4c6d8e0f1a2b3c4d5e",
        rule: "revocations",
        channel: "ops",
        tenant: "acme",
        recipient: "pki-team@example.com",
        event: "certificate.revoke",
        subject: "Custos: certificate.revoke certificate/issuing/0a1b",
        created: Date(timeIntervalSince1970: 1_800_000_000),
        state: "pending",
        attempts: 2,
        nextAttempt: Date(timeIntervalSince1970: 1_800_000_060),
        lastError: "HTTP 500",
        delivered: Date(timeIntervalSince1970: 1_800_000_120)
    )
}

/// `GET /v1/notifications`: newest first.
public struct NotificationPage: APIModel {
    public var notifications: [NotificationView]
    public var nextCursor: String?

    public init(notifications: [NotificationView], nextCursor: String?) {
        self.notifications = notifications
        self.nextCursor = nextCursor
    }

    public static let example = NotificationPage(notifications: [.example], nextCursor: "1800000000000000000.3f2a")
}
