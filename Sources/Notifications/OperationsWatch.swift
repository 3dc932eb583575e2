import CA
public import Foundation
public import Logging
public import MetadataStore
import Synchronization
import X509

/// Events no request causes, found by looking: the HSM stopped answering or answers again, a CRL that
/// was not reissued before its nextUpdate, a CA certificate or delegated OCSP signer nearing its end,
/// signing OCSP answers ahead falling behind, an audit entry that does not chain.
/// Each becomes an audit entry (written through the notifying store, so rules naming it notify in the
/// same transaction), once per change: the HSM on each transition, a CRL once per number, a CA or
/// signer once per certificate, a break of the audit chain once (the log itself is what remembers, so
/// a restart or another node taking the job over does not repeat them).
public final class OperationsWatch: Sendable {
    /// The store with the outbox hook.
    let store: any MetadataBackend
    /// Whether the HSM answers (a round trip through a pooled session).
    let probe: @Sendable () async -> String?
    /// A CA certificate within this many days of its notAfter is reported.
    let caWarningDays: Int
    /// A delegated OCSP signer within this many hours of its notAfter is reported (they are replaced
    /// long before; one this close means replacing it failed).
    let signerWarningHours: Int
    /// Stored OCSP answers are signed again once half their validity has passed; one older than three
    /// quarters of it means signing ahead has fallen behind (`ocsp.backlog`, and `ocsp.backlog-cleared`).
    let ocspValiditySeconds: Int64
    let logger: Logger
    /// The token's label, for the HSM's entries.
    let token: String
    private let state = Mutex(State())

    private struct State {
        var hsmDown = false
        var ocspBehind = false
        var reported: Set<String> = []
        /// The last audit entry found chained correctly.
        var verified: (sequence: UInt64, hash: [UInt8])?
    }

    /// Findings reported on every change of state rather than once.
    static let transitions: Set<String> = ["hsm.unavailable", "hsm.recovered", "ocsp.backlog", "ocsp.backlog-cleared"]

    /// `probe` answers nil when the HSM answers, else why not.
    public init(
        store: any MetadataBackend,
        token: String,
        caWarningDays: Int = 30,
        signerWarningHours: Int = 24,
        ocspValiditySeconds: Int64 = 4 * 86_400,
        logger: Logger,
        probe: @escaping @Sendable () async -> String?
    ) {
        self.store = store
        self.token = token
        self.caWarningDays = caWarningDays
        self.signerWarningHours = signerWarningHours
        self.ocspValiditySeconds = ocspValiditySeconds
        self.logger = logger
        self.probe = probe
    }

    /// One look; returns the actions it recorded.
    @discardableResult
    public func check(now: Date = Date()) async -> [String] {
        var events: [AuditEvent] = []
        let failure = await probe()
        let token = "token/\(self.token)"
        let wasDown = state.withLock { state in
            defer { state.hsmDown = failure != nil }
            return state.hsmDown
        }
        if let failure, !wasDown {
            events.append(
                AuditEvent(actor: "custos", action: "hsm.unavailable", object: token, outcome: "failure: \(failure)")
            )
        } else if failure == nil, wasDown {
            events.append(AuditEvent(actor: "custos", action: "hsm.recovered", object: token, outcome: "success"))
        }
        // The audit chain: what was appended since the last look (the first look walks it all, on a
        // thread of its own).
        do {
            let verified = state.withLock { $0.verified }
            let (last, broken) = try await store.scan { reader in
                try reader.continueAuditVerification(after: verified, limit: 1_000_000)
            }
            state.withLock { $0.verified = last }
            if let broken {
                events.append(
                    AuditEvent(
                        actor: "custos",
                        action: "audit.verification-failed",
                        object: "audit/\(broken.sequence)",
                        outcome: "failure: \(broken.reason)"
                    )
                )
            }
        } catch {
            logger.warning("the operations watch could not read the audit log", metadata: ["reason": "\(error)"])
        }
        do {
            let behindBefore = Int64(now.timeIntervalSince1970) - ocspValiditySeconds * 3 / 4
            let (stale, crls, cas, signers) = try await store.read { reader in
                (
                    try reader.ocspResponses(thisUpdateBefore: behindBefore, limit: 10_000).count,
                    try reader.records(CRLRecord.self, after: nil, limit: .max),
                    try reader.records(CARecord.self, after: nil, limit: .max),
                    try reader.records(OCSPSignerRecord.self, after: nil, limit: .max)
                )
            }
            let wasBehind = state.withLock { state in
                defer { state.ocspBehind = stale > 0 }
                return state.ocspBehind
            }
            if stale > 0, !wasBehind {
                events.append(
                    AuditEvent(
                        actor: "custos",
                        action: "ocsp.backlog",
                        object: "ocsp",
                        outcome:
                            "warning: \(stale)\(stale == 10_000 ? " or more" : "") stored answers are past three quarters of their validity"
                    )
                )
            } else if stale == 0, wasBehind {
                events.append(
                    AuditEvent(actor: "custos", action: "ocsp.backlog-cleared", object: "ocsp", outcome: "success")
                )
            }
            let seconds = Int64(now.timeIntervalSince1970)
            let formatter = ISO8601DateFormatter()
            for crl in crls where crl.fullNextUpdate < seconds {
                let due = formatter.string(from: Date(timeIntervalSince1970: Double(crl.fullNextUpdate)))
                events.append(
                    AuditEvent(
                        actor: "custos",
                        action: "crl.late",
                        object: "crl/\(crl.scope)",
                        outcome: "failure: CRL \(crl.number) was due to be replaced by \(due)"
                    )
                )
            }
            for record in cas where record.state == .active {
                guard let notAfter = (try? Authority(record))?.certificate?.notValidAfter,
                    notAfter.timeIntervalSince(now) < Double(caWarningDays) * 86_400
                else { continue }
                events.append(
                    AuditEvent(
                        actor: "custos",
                        action: "ca.expiring",
                        object: "ca/\(record.id)",
                        outcome: "warning: its certificate ends \(formatter.string(from: notAfter))"
                    )
                )
            }
            for signer in signers
            where signer.notAfter - seconds * 1_000_000_000 < Int64(signerWarningHours) * 3_600_000_000_000 {
                let ends = Date(timeIntervalSince1970: Double(signer.notAfter) / 1e9)
                events.append(
                    AuditEvent(
                        actor: "custos",
                        action: "ocsp.signer.expiring",
                        object: "ca/\(signer.ca)",
                        outcome: "warning: its delegated OCSP signer ends \(formatter.string(from: ends))"
                    )
                )
            }
        } catch {
            logger.warning("the operations watch could not read the store", metadata: ["reason": "\(error)"])
        }
        // Each state once: the HSM's transitions always, the others once per object and outcome.
        let fresh = state.withLock { state in
            events.filter { event in
                Self.transitions.contains(event.action)
                    || state.reported.insert("\(event.action) \(event.object) \(event.outcome)").inserted
            }
        }
        guard !fresh.isEmpty else { return [] }
        let recorded: [AuditEvent]
        do {
            // Once per object and outcome across restarts and nodes: what the log already holds is skipped.
            recorded = try await store.write { txn in
                var recorded: [AuditEvent] = []
                for event in fresh {
                    if !Self.transitions.contains(event.action),
                        try txn.auditEntries(action: event.action, limit: 100_000).contains(where: {
                            $0.event.object == event.object && $0.event.outcome == event.outcome
                        })
                    {
                        continue
                    }
                    try txn.appendAudit(event)
                    recorded.append(event)
                }
                return recorded
            }
        } catch {
            // Not recorded: look again next time.
            state.withLock { state in
                for event in fresh { state.reported.remove("\(event.action) \(event.object) \(event.outcome)") }
                if fresh.contains(where: { $0.action.hasPrefix("hsm.") }) { state.hsmDown = !state.hsmDown }
                if fresh.contains(where: { $0.action.hasPrefix("ocsp.backlog") }) {
                    state.ocspBehind = !state.ocspBehind
                }
            }
            logger.warning("the operations watch could not record what it found", metadata: ["reason": "\(error)"])
            return []
        }
        for event in recorded {
            logger.warning("\(event.action)", metadata: ["object": "\(event.object)", "outcome": "\(event.outcome)"])
        }
        return recorded.map(\.action)
    }
}
