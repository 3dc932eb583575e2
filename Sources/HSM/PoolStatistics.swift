/// A snapshot of a session pool's figures, for metrics and `custos serve` reports.
public struct PoolStatistics: Sendable, Hashable {
    /// Sessions currently open.
    public var sessionsOpen = 0
    /// Sessions running an operation now.
    public var inUse = 0
    /// Callers waiting for a session now.
    public var waiters = 0
    /// Operations completed successfully.
    public var operations = 0
    /// Operations that failed (after any recovery).
    public var failures = 0
    /// Callers that gave up waiting for a session.
    public var timeouts = 0
    /// Total and longest time callers waited for a session.
    public var totalWait: Duration = .zero
    public var maxWait: Duration = .zero
    /// PKCS#11 errors seen by return-value name (`CKR_SESSION_HANDLE_INVALID`), including recovered ones.
    public var errors: [String: Int] = [:]
    /// Recoveries by kind: `session` (reopened), `login`, `handles`, `reinitialize`.
    public var recoveries: [String: Int] = [:]
    /// Keepalive operations run on idle sessions.
    public var keepalives = 0
}
