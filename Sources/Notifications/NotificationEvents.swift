import MetadataStore

/// The audit actions a rule may name in `events`: each is an event Custos already records in its audit
/// log, so its notification is written in the same transaction as the event.
public enum NotificationEvents {
    /// Each event and what it means (the operator guide lists the same).
    public static let known: [String: String] = [
        "certificate.revoke": "a certificate was revoked (singly or in bulk)",
        "certificate.enroll": "a certificate was issued through an enrollment protocol",
        "certificate.renew": "a certificate was renewed",
        "enrollment.pending": "an enrollment request waits for an officer's approval",
        "enrollment.approve": "an officer approved a waiting request",
        "enrollment.reject": "an officer rejected a waiting request",
        "ca.create": "a CA was created",
        "ca.renew": "a CA certificate was renewed",
        "ca.retire": "a CA was retired",
        "crl.issue": "a CRL was issued",
        "ocsp.signer.rotate": "an OCSP signer was replaced",
        "policy.set": "an issuance policy was changed",
        "hsm.unavailable": "the HSM stopped answering (the session pool recovers)",
        "hsm.recovered": "the HSM answers again",
        "crl.late": "a CRL was not reissued before its nextUpdate",
        "ocsp.backlog": "signing OCSP answers ahead has fallen behind (stored answers past 3/4 of their validity)",
        "ocsp.backlog-cleared": "signing OCSP answers ahead has caught up",
        "audit.verification-failed": "an audit entry does not chain to the one before (tampering or damage)",
        "ca.expiring": "a CA certificate is within 30 days of its end",
        "ocsp.signer.expiring": "a delegated OCSP signer is within a day of its end (its replacement failed)",
    ]

    /// Actors whose entries never notify: the notifier's own vault reads would otherwise notify about
    /// themselves.
    public static let quietActor = "custos-notifications"

    /// Whether `entry` may cause notifications at all.
    static func mayNotify(_ event: AuditEvent) -> Bool {
        event.actor != quietActor && !event.action.hasPrefix("notification.")
    }
}
