import Codecs
import Enrollment
import Foundation
import MetadataStore

/// Self-service portal sessions: made when a person signs in with an enrollment password of a profile
/// that offers the portal, kept as `PortalSessionRecord` (the cookie secret's hash and the enrollment
/// secret's id, never the password), ended at sign-out, after `idle` without a request, or when the
/// password is withdrawn.
struct PortalSessions: Sendable {
    let enrollment: EnrollmentService
    let store: any MetadataBackend
    let idle: Duration

    static let cookie = "custos_portal"

    /// A live session and the client name it acts under.
    struct Session: Sendable {
        var record: PortalSessionRecord
        var client: String
    }

    private var idleNanoseconds: Int64 { ConsoleSessions.nanoseconds(idle) }
    private var touchNanoseconds: Int64 { ConsoleSessions.touchNanoseconds(idle: idle) }

    /// Signs in; returns the cookie's secret and the session. Throws the enrollment error (audited).
    func signIn(profile: String, user: String, password: String, source: String, requestID: String) async throws
        -> (secret: String, session: Session)
    {
        let matched = try await enrollment.portalSignIn(
            profile: profile,
            user: user,
            password: password,
            source: source,
            requestID: requestID
        )
        let client = try await enrollment.portalClientName(profile: profile, secretID: matched.id, user: user)
        let secret = Base64URL.encode(ConsoleSessions.randomBytes(32))
        let now = ConsoleSessions.now()
        let record = PortalSessionRecord(
            secretHash: ConsoleSessions.hash(secret),
            profile: profile,
            enrollmentSecretID: matched.id,
            user: user,
            csrfToken: ConsoleSessions.token(),
            created: now,
            lastSeen: now
        )
        let cutoff = now - idleNanoseconds
        try await store.write { txn in
            var after: PortalSessionRecord?
            while true {
                let page = try txn.portalSessions(after: after, limit: 1000)
                for old in page where old.lastSeen < cutoff { try txn.removePortalSession(secretHash: old.secretHash) }
                guard page.count == 1000 else { break }
                after = page.last
            }
            try txn.save(record)
        }
        return (secret, Session(record: record, client: client))
    }

    /// The session of a cookie's secret, refreshed; nil (and removed) when idle too long or its password
    /// was withdrawn; `expired` tells which.
    func find(secret: String) async throws -> (session: Session?, expired: Bool) {
        guard secret.utf8.count == 43 else { return (nil, false) }
        let hash = ConsoleSessions.hash(secret)
        guard let record = try await store.read({ try $0.portalSession(secretHash: hash) }) else { return (nil, false) }
        let now = ConsoleSessions.now()
        let client = try? await enrollment.portalClientName(
            profile: record.profile,
            secretID: record.enrollmentSecretID,
            user: record.user
        )
        guard now - record.lastSeen <= idleNanoseconds, let client else {
            _ = try await store.write { txn in try txn.removePortalSession(secretHash: hash) }
            return (nil, now - record.lastSeen > idleNanoseconds)
        }
        var touched = record
        if now - record.lastSeen >= touchNanoseconds {
            touched.lastSeen = now
            let saved = touched
            _ = try await store.write { txn -> Bool in
                guard try txn.portalSession(secretHash: hash) != nil else { return false }
                try txn.save(saved)
                return true
            }
        }
        return (Session(record: touched, client: client), false)
    }

    func signOut(_ session: Session) async throws {
        let hash = session.record.secretHash
        _ = try await store.write { txn in try txn.removePortalSession(secretHash: hash) }
    }
}
