import Access
import Codecs
import Crypto
import Foundation
import MetadataStore

/// Web-console sessions. Signing in with a credential's token makes a session; the browser keeps its
/// random secret in an HttpOnly cookie and the store keeps only the secret's SHA-256. A session acts
/// with its credential's role and ends at sign-out, after `idle` without a request, or as soon as the
/// credential is revoked. Sign-ins, failed sign-ins and sign-outs are audited.
struct ConsoleSessions: Sendable {
    let credentials: Credentials
    let store: any MetadataBackend
    let idle: Duration

    /// The session cookie's name.
    static let cookie = "custos_console"

    /// A live session and the credential it acts as.
    struct Session: Sendable {
        var record: ConsoleSessionRecord
        var credential: CredentialRecord
    }

    /// What a cookie's secret leads to.
    enum Lookup: Sendable {
        case none
        /// It was a session, which ended for want of use.
        case expired
        case active(Session)
    }

    private var idleNanoseconds: Int64 { Self.nanoseconds(idle) }
    private var touchNanoseconds: Int64 { Self.touchNanoseconds(idle: idle) }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// A session (console or portal) is written back at most this often (a write per page view would be
    /// wasteful), and at least four times per idle period so that a busy session never lapses.
    static func touchNanoseconds(idle: Duration) -> Int64 { min(30_000_000_000, nanoseconds(idle) / 4) }

    /// Signs in with a credential's bearer token. Returns the cookie's secret and the session, or nil
    /// (audited as a failure) when the token is unknown or revoked.
    func signIn(token: String, source: String, requestID: String) async throws -> (secret: String, session: Session)? {
        try await signIn(
            try await credentials.authenticate(token),
            method: "token",
            failure: "unknown or revoked credential",
            source: source,
            requestID: requestID
        )
    }

    /// Signs in with the TLS client certificate `der` (whose key the handshake proved) as the credential
    /// it is bound to; nil (audited as a failure) when there is none, no live credential has it, or it
    /// is not valid now.
    func signIn(certificate der: [UInt8]?, valid: Bool, source: String, requestID: String) async throws -> (
        secret: String, session: Session
    )? {
        guard let der else {
            return try await signIn(
                nil,
                method: "certificate",
                failure: "no client certificate on the connection",
                source: source,
                requestID: requestID
            )
        }
        let hash = Credentials.certificateHash(der)
        return try await signIn(
            valid ? try await credentials.authenticate(certificate: der) : nil,
            method: "certificate sha256 \(hash)",
            failure: valid
                ? "no live credential has the client certificate sha256 \(hash)"
                : "the client certificate sha256 \(hash) is not valid now",
            source: source,
            requestID: requestID
        )
    }

    private func signIn(
        _ found: CredentialRecord?,
        method: String,
        failure: String,
        source: String,
        requestID: String
    ) async throws -> (secret: String, session: Session)? {
        guard let credential = found else {
            _ = try await store.write { txn in
                try txn.appendAudit(
                    AuditEvent(
                        actor: "anonymous",
                        action: "console.signin",
                        object: "console",
                        outcome: "failure: \(failure), from \(source)",
                        requestID: requestID
                    )
                )
            }
            return nil
        }
        let secret = Base64URL.encode(Self.randomBytes(32))
        let now = Self.now()
        let record = ConsoleSessionRecord(
            secretHash: Self.hash(secret),
            credentialID: credential.id,
            csrfToken: Self.token(),
            created: now,
            lastSeen: now
        )
        let cutoff = now - idleNanoseconds
        try await store.write { txn in
            // Sessions nobody came back to are removed here rather than by a background job.
            var after: ConsoleSessionRecord?
            while true {
                let page = try txn.consoleSessions(after: after, limit: 1000)
                for old in page where old.lastSeen < cutoff { try txn.removeConsoleSession(secretHash: old.secretHash) }
                guard page.count == 1000 else { break }
                after = page.last
            }
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: "credential/\(credential.id)",
                    action: "console.signin",
                    object: "console",
                    outcome: "success: role \(credential.role.rawValue), by \(method), from \(source)",
                    requestID: requestID
                )
            )
        }
        return (secret, Session(record: record, credential: credential))
    }

    /// The session of a cookie's secret, refreshed; an idle or orphaned session is removed.
    func find(secret: String) async throws -> Lookup {
        guard secret.utf8.count == 43 else { return .none }
        let hash = Self.hash(secret)
        let found = try await store.read { reader -> (ConsoleSessionRecord, CredentialRecord?)? in
            guard let record = try reader.consoleSession(secretHash: hash) else { return nil }
            return (record, try reader.credential(id: record.credentialID))
        }
        guard let (record, credential) = found else { return .none }
        let now = Self.now()
        guard now - record.lastSeen <= idleNanoseconds, let credential, !credential.revoked else {
            _ = try await store.write { txn in try txn.removeConsoleSession(secretHash: hash) }
            return now - record.lastSeen > idleNanoseconds ? .expired : .none
        }
        var touched = record
        if now - record.lastSeen >= touchNanoseconds {
            touched.lastSeen = now
            let saved = touched
            // Saved only if it still exists: a sign-out meanwhile must not be undone.
            _ = try await store.write { txn -> Bool in
                guard try txn.consoleSession(secretHash: hash) != nil else { return false }
                try txn.save(saved)
                return true
            }
        }
        return .active(Session(record: touched, credential: credential))
    }

    /// Ends a session.
    func signOut(_ session: Session, requestID: String) async throws {
        let hash = session.record.secretHash
        let actor = "credential/\(session.credential.id)"
        _ = try await store.write { txn in
            try txn.removeConsoleSession(secretHash: hash)
            try txn.appendAudit(
                AuditEvent(
                    actor: actor,
                    action: "console.signout",
                    object: "console",
                    outcome: "success",
                    requestID: requestID
                )
            )
        }
    }

    /// Whether `token` is the session's CSRF token (compared in constant time).
    static func matches(_ token: String?, _ expected: String) -> Bool {
        guard let token else { return false }
        let a = Array(token.utf8)
        let b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// A random token for a form or a cookie: 24 random bytes in base64url.
    static func token() -> String { Base64URL.encode(randomBytes(24)) }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }
}
