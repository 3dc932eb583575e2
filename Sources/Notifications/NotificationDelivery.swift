import APIModels
import CoreMetrics
import Foundation
public import Logging
import Mail
public import MetadataStore
import NIOSSL
import Synchronization
public import Vault

/// How often and how long the outbox tries.
public struct DeliverySettings: Sendable {
    /// The wait after the first failed attempt; each further failure doubles it, up to `longestWait`.
    public var firstRetry: Duration
    public var longestWait: Duration
    /// Attempts before a notification is marked failed.
    public var attempts: Int
    /// Deliveries in flight at once (each waits at most its channel's timeout).
    public var concurrency: Int

    public init(
        firstRetry: Duration = .seconds(30),
        longestWait: Duration = .seconds(3600),
        attempts: Int = 10,
        concurrency: Int = 8
    ) {
        self.firstRetry = firstRetry
        self.longestWait = longestWait
        self.attempts = attempts
        self.concurrency = concurrency
    }

    /// The wait after `attempts` failed attempts.
    func wait(after attempts: Int) -> Duration {
        var wait = firstRetry
        for _ in 1..<max(attempts, 1) where wait < longestWait { wait = wait * 2 }
        return min(wait, longestWait)
    }
}

/// Delivers what is due in the outbox: each notification through its channel, at least once (a crash
/// between sending and recording it sends it again; receivers recognise the `Custos-Notification-Id` or
/// `Message-ID`), retried with exponential backoff, then marked failed. Runs off the request path, so a
/// dead channel never slows issuance or signing: it only keeps its own notifications pending.
public final class NotificationDelivery: Sendable {
    let store: any MetadataBackend
    let vault: Vault
    public let settings: DeliverySettings
    let logger: Logger
    /// Sends one notification as an SNMP trap; nil when no master agent is configured.
    let trap: (@Sendable (NotificationRecord) async throws -> Void)?
    private let inFlight = Mutex<Set<String>>([])

    public init(
        store: any MetadataBackend,
        vault: Vault,
        settings: DeliverySettings,
        logger: Logger,
        trap: (@Sendable (NotificationRecord) async throws -> Void)? = nil
    ) {
        self.store = store
        self.vault = vault
        self.settings = settings
        self.logger = logger
        self.trap = trap
    }

    /// The requester the delivery's vault reads are audited under (its entries never notify).
    static let requester = Requester(actor: NotificationEvents.quietActor)

    /// Starts delivering the notifications due now that are not being delivered already; returns the
    /// tasks started (tests wait for them; the background job does not).
    @discardableResult
    public func deliverDue() async throws -> [Task<Void, Never>] {
        let free = settings.concurrency - inFlight.withLock { $0.count }
        guard free > 0 else { return [] }
        let due = try await store.read { reader in
            let now = try reader.clock()
            return try reader.dueNotifications(at: now, limit: 64)
        }
        Gauge(label: "custos_notifications_due").record(due.count)
        var started: [Task<Void, Never>] = []
        for record in due where started.count < free {
            guard inFlight.withLock({ $0.insert(record.id).inserted }) else { continue }
            started.append(
                Task {
                    await self.deliver(record)
                    _ = self.inFlight.withLock { $0.remove(record.id) }
                }
            )
        }
        return started
    }

    /// One attempt, and its outcome recorded.
    func deliver(_ record: NotificationRecord) async {
        let outcome: DeliveryFailure?
        do {
            try await attempt(record)
            outcome = nil
        } catch let failure as DeliveryFailure {
            outcome = failure
        } catch {
            outcome = DeliveryFailure("\(error)", permanent: false)
        }
        let settings = settings
        do {
            let state = try await store.write { txn -> NotificationRecord.State? in
                guard var current = try txn.notification(id: record.id), current.state == .pending,
                    current.attempts == record.attempts
                else { return nil }
                let now = try txn.clock()
                current.attempts += 1
                if let outcome {
                    current.lastError = outcome.description
                    if outcome.permanent || current.attempts >= settings.attempts {
                        current.state = .failed
                    } else {
                        let wait = settings.wait(after: current.attempts)
                        current.nextAttempt =
                            now + wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000
                    }
                } else {
                    current.state = .delivered
                    current.delivered = now
                }
                try txn.save(current)
                return current.state
            }
            let dimensions = [("channel", record.channel)]
            switch state {
            case .delivered?: Counter(label: "custos_notifications_delivered_total", dimensions: dimensions).increment()
            case .failed?:
                Counter(label: "custos_notifications_failed_total", dimensions: dimensions).increment()
                logger.error(
                    "a notification was given up",
                    metadata: [
                        "id": "\(record.id)", "rule": "\(record.rule)", "reason": "\(outcome?.description ?? "")",
                    ]
                )
            case .pending?:
                Counter(label: "custos_notifications_retries_total", dimensions: dimensions).increment()
                logger.warning(
                    "a notification will be tried again",
                    metadata: [
                        "id": "\(record.id)", "rule": "\(record.rule)", "reason": "\(outcome?.description ?? "")",
                    ]
                )
            case nil: break
            }
        } catch {
            // Not recorded: it stays due and is tried again (at least once).
            logger.warning("a notification's outcome could not be stored", metadata: ["reason": "\(error)"])
        }
    }

    private func attempt(_ record: NotificationRecord) async throws {
        let channel = try await store.read { reader in
            try reader.notificationChannel(record.channel)
        }
        guard let channel,
            let body = try? JSONDecoder().decode(NotificationChannelBody.self, from: Data(channel.document))
        else {
            throw DeliveryFailure("the channel \(record.channel) no longer exists", permanent: false)
        }
        if let webhook = body.webhook {
            var secret = try await secret(webhook.secret)
            defer { wipe(&secret) }
            try await WebhookSender().send(
                webhookBody(record),
                id: record.id,
                event: record.event,
                to: webhook.url,
                secret: secret,
                timeout: .seconds(webhook.timeoutSeconds ?? 10)
            )
        } else if let mail = body.mail {
            try await sendMail(record, mail)
        } else {
            guard let trap else {
                throw DeliveryFailure("no SNMP master agent is configured (snmp.agentx)", permanent: false)
            }
            do { try await trap(record) } catch {
                throw DeliveryFailure("the SNMP trap was not sent: \(error)", permanent: false)
            }
        }
    }

    /// What a webhook receives: the notification's identity around the event's payload.
    func webhookBody(_ record: NotificationRecord) -> [UInt8] {
        let created = Date(timeIntervalSince1970: Double(record.created) / 1e9)
        let payload = String(decoding: record.payload, as: UTF8.self)
        let envelope =
            #"{"created":"\#(ISO8601DateFormatter().string(from: created))","data":\#(payload),"# + #""event":"#
            + Self.quoted(record.event) + #","id":""# + record.id + #"","subject":"# + Self.quoted(record.subject) + "}"
        return Array(envelope.utf8)
    }

    static func quoted(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    private func sendMail(_ record: NotificationRecord, _ mail: MailChannelBody) async throws {
        var trustRoots: [NIOSSLCertificate] = []
        if let pem = mail.trustedCertificates { trustRoots = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)) }
        let security = SMTPSecurity(rawValue: mail.security ?? "starttls") ?? .starttls
        let client = SMTPClient(
            relay: SMTPRelay(
                host: mail.host,
                port: mail.port ?? 587,
                security: security,
                trustRoots: trustRoots,
                timeout: .seconds(mail.timeoutSeconds ?? 30)
            )
        )
        var credentials: SMTPCredentials?
        if let username = mail.username, let reference = mail.password {
            credentials = SMTPCredentials(
                username: username,
                password: try await secret(reference),
                mechanism: mail.mechanism.flatMap(SMTPAuthMechanism.init(rawValue:))
            )
        }
        defer { if credentials != nil { wipe(&credentials!.password) } }
        var text = record.subject + "\n\n"
        if let object = try? JSONSerialization.jsonObject(with: Data(record.payload)) as? [String: Any] {
            // A report's CSV is attached, not repeated in the text.
            for key in object.keys.sorted() where !(key == "csv" && record.attachment != nil) {
                text += "\(key): \(object[key].map { "\($0)" } ?? "")\n"
            }
        }
        text += "\nNotification \(record.id) of rule \(record.rule).\n"
        let message = MailMessage(
            from: mail.from,
            to: [record.recipient],
            subject: record.subject,
            text: text,
            attachments: record.attachment.map {
                record.event == "certificate.autorenew"
                    ? [
                        MailMessage.Attachment(
                            filename: "certificate.pem",
                            contentType: "application/x-pem-file",
                            data: $0
                        )
                    ]
                    : [MailMessage.Attachment(filename: "\(record.rule).csv", contentType: "text/csv", data: $0)]
            } ?? [],
            messageID: "\(record.id)@custos"
        )
        do {
            try await client.send(message, credentials: credentials)
        } catch {
            throw DeliveryFailure(error.description, permanent: !error.isTransient)
        }
    }

    /// A channel secret, decrypted in the HSM for this one attempt.
    private func secret(_ reference: VaultSecretReference) async throws -> [UInt8] {
        do {
            return try await vault.secret(
                namespace: reference.namespace,
                path: reference.path,
                version: nil,
                requester: Self.requester
            ).value
        } catch {
            throw DeliveryFailure(
                "the channel secret \(reference.namespace)/\(reference.path) cannot be read: \(error.message)",
                permanent: false
            )
        }
    }

    private func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }
}
