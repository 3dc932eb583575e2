import APIModels
import CA
import Codecs
import CustosX509
import Foundation
import MetadataStore

/// Renewal rules (`renew`): certificates of a CA that carry the rule's metadata are renewed a set time
/// before their end (same subject, names and key, under the policy in force), the rule's channel gets
/// the new certificate (a webhook in `data.certificate`, mail as an attached PEM), and the old one is
/// revoked as superseded after a grace period if the rule says so. A renewal is found again by the
/// successor's `renewed-from` metadata, so a pass repeated after a crash or on another node renews
/// nothing twice, and the notification is written once per rule, certificate and recipient.
extension NotificationScheduler {
    /// The requester renewals and supersessions are audited under.
    static let renewer = Requester(actor: "custos-renewal")

    func renew(_ rule: NotificationOutbox.Rule, tenants: [String: String], now: Date) async throws -> Int {
        guard let renew = rule.body.renew, let authority else { return 0 }
        let search = CertificateSearch(store: store)
        let window = CertificateQuery(
            ca: renew.ca,
            status: .valid,
            metadata: renew.metadata ?? [:],
            expiresAfter: now,
            expiresBefore: now.addingTimeInterval(Double(renew.daysBefore) * 86_400)
        )
        let due = try await search.all(window, limit: 10_000).filter {
            rule.tenant == nil || tenants[$0.issuer] == rule.tenant
        }
        var written = 0
        for old in due {
            let serial = Hex.encode(old.serial)
            let renewedFrom = [CertificateAuthority.renewedFromMetadataKey: serial]
            var successor = try await search.all(CertificateQuery(ca: renew.ca, metadata: renewedFrom), limit: 1).first
            if successor == nil {
                do {
                    successor = try await authority.renewCertificate(
                        ca: renew.ca,
                        serial: serial,
                        csr: nil,
                        validityDays: renew.validityDays,
                        requester: Self.renewer
                    ).record
                } catch {
                    logger.error(
                        "a certificate could not be renewed",
                        metadata: [
                            "rule": "\(rule.name)", "ca": "\(renew.ca)", "serial": "\(serial)", "reason": "\(error)",
                        ]
                    )
                    written += try await notify(rule, old: old, new: nil, failure: error.message, now: now)
                    continue
                }
            }
            guard let successor else { continue }
            written += try await notify(rule, old: old, new: successor, failure: nil, now: now)
            if let grace = renew.supersedeAfterDays,
                successor.notBefore + Int64(grace) * 86_400_000_000_000 <= Int64(now.timeIntervalSince1970 * 1e9)
            {
                do {
                    _ = try await authority.revoke(
                        ca: renew.ca,
                        serial: serial,
                        reason: .superseded,
                        requester: Self.renewer
                    )
                } catch {
                    logger.error(
                        "a renewed certificate could not be revoked as superseded",
                        metadata: ["ca": "\(renew.ca)", "serial": "\(serial)", "reason": "\(error)"]
                    )
                }
            }
        }
        return written
    }

    /// The renewal's (or its failure's) notification, once per rule, certificate and recipient.
    private func notify(
        _ rule: NotificationOutbox.Rule,
        old: CertificateRecord,
        new: CertificateRecord?,
        failure: String?,
        now: Date
    )
        async throws -> Int
    {
        let serial = Hex.encode(old.serial)
        let pem = new.map { PEM.encode($0.der) }
        let payload = RenewalPayload(
            rule: rule.name,
            event: new == nil ? "certificate.autorenew-failed" : "certificate.autorenew",
            ca: old.issuer,
            previousSerial: serial,
            serial: new.map { Hex.encode($0.serial) },
            subject: old.subject,
            notAfter: new.map { Date(timeIntervalSince1970: Double($0.notAfter) / 1e9) },
            certificate: pem,
            failure: failure
        )
        let data = try NotificationOutbox.encoder.encode(payload)
        let subject =
            new == nil
            ? "Custos: certificate \(old.subject) (\(serial)) could not be renewed"
            : "Custos: certificate \(old.subject) renewed as \(payload.serial ?? "")"
        let time = Int64(now.timeIntervalSince1970 * 1e9)
        let mail = rule.channelKind == "mail"
        return try await store.write { txn in
            var count = 0
            for recipient in rule.recipients {
                let added = try NotificationOutbox.insert(
                    rule: rule,
                    recipient: recipient,
                    event: payload.event,
                    eventKey: "\(payload.event)/\(old.issuer)/\(serial)",
                    subject: subject,
                    payload: data,
                    attachment: mail ? pem.map { Array($0.utf8) } : nil,
                    at: time,
                    in: txn
                )
                if added { count += 1 }
            }
            return count
        }
    }
}

/// What a renewal notification carries.
struct RenewalPayload: Codable {
    var rule: String
    var event: String
    var ca: String
    var previousSerial: String
    var serial: String?
    var subject: String
    var notAfter: Date?
    /// The new certificate, PEM.
    var certificate: String?
    var failure: String?
}
