internal import CLMDB
import WorkerThreads

/// The store's only writer: a dedicated thread that begins and commits every write transaction
/// (never across an `await`, never on the cooperative pool or an event loop).
///
/// Concurrent writes are grouped: the writer takes every waiting write, runs them one after the other
/// in one transaction, commits the group once — one fsync — and only then returns to the callers. A
/// write that returned is durable. If one write of a group throws, the group's transaction is
/// abandoned and the group runs again with each write in its own nested transaction, so that the one
/// that throws is rolled back alone. A write's body can therefore run more than once, and must have no
/// effect outside its transaction.
public final class StoreWriter: Sendable {
    private let core: WriterCore

    /// Starts the writer for `environment`; a group holds at most `maxGroup` writes. `auditSink`, if
    /// given, receives the audit entries of each group after the group is durable (never those of a write
    /// that was rolled back); it runs on the writer thread and must not block.
    public init(
        environment: Environment,
        maxGroup: Int = 512,
        auditSink: (@Sendable ([AuditEntry]) -> Void)? = nil
    ) {
        core = WriterCore(environment: environment, maxGroup: max(1, maxGroup), auditSink: auditSink)
        core.start()
    }

    deinit { core.shutdown() }

    /// Runs `body` in a write transaction and returns its result once the transaction is durable.
    /// If `body` throws, nothing it wrote is kept and the error is rethrown.
    ///
    /// `body` may run more than once (when another write of its group throws, or the map has to grow),
    /// each time in a fresh transaction; it must not change anything outside the transaction.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (WriteTransaction) throws -> T) async throws -> T {
        try await AwaitedJob.perform(repeatable: true, body) { core.enqueue($0) }
    }

    /// Current figures.
    public var statistics: WriterStatistics { core.snapshot() }

    /// Finishes the writes already queued, then stops; later writes fail with `.shutDown`.
    public func shutdown() { core.shutdown() }
}

/// What the writer has done.
public struct WriterStatistics: Sendable, Hashable {
    /// Writes committed (durable).
    public var writes = 0
    /// Writes that threw or whose group failed to commit.
    public var failures = 0
    /// Commits, each one fsync: with concurrent writers, fewer than `writes`.
    public var commits = 0
    /// The largest group committed at once.
    public var largestGroup = 0
    /// Times the map was grown to fit a write.
    public var mapGrowths = 0
    /// Writes waiting for the writer now (not yet in a group).
    public var queued = 0
}

/// A write for the writer thread.
typealias WriteJob = BlockingJob<WriteTransaction>

/// The writer's state and thread. @unchecked: `queue`, `running`, `stats` and `thread` are only touched
/// with `monitor` locked.
final class WriterCore: @unchecked Sendable {
    private let environment: Environment
    private let maxGroup: Int
    private let auditSink: (@Sendable ([AuditEntry]) -> Void)?
    private let monitor = Monitor(conditions: 1)
    private var queue = JobQueue<any WriteJob>()
    private var running = true
    private var stats = WriterStatistics()
    private var thread: DedicatedThread?

    init(environment: Environment, maxGroup: Int, auditSink: (@Sendable ([AuditEntry]) -> Void)?) {
        self.environment = environment
        self.maxGroup = maxGroup
        self.auditSink = auditSink
    }

    func start() {
        let started = DedicatedThread(name: "custos-writer") { [self] in run() }
        monitor.withLock { thread = started }
    }

    func enqueue(_ job: any WriteJob) {
        monitor.lock()
        guard running else {
            monitor.unlock()
            job.fail(StoreError(code: .shutDown, reason: "the store writer is shut down"))
            return
        }
        queue.append(job)
        monitor.signal(monitor.condition(0))
        monitor.unlock()
    }

    func snapshot() -> WriterStatistics {
        monitor.withLock {
            var current = stats
            current.queued = queue.count
            return current
        }
    }

    func shutdown() {
        let joining: DedicatedThread? = monitor.withLock {
            running = false
            monitor.broadcast(monitor.condition(0))
            return thread
        }
        joining?.join()
    }

    private func run() {
        monitor.lock()
        while true {
            while queue.isEmpty && running { monitor.wait(monitor.condition(0)) }
            if queue.isEmpty { break }  // shut down and drained
            let group = queue.popFirst(upTo: maxGroup)
            monitor.unlock()
            var (committed, failed, audit) = commit(group)
            // Writes that did not fit get one more try in a grown map.
            let full = failed.filter { ($0.1 as? StoreError)?.code == .mapFull }.map(\.0)
            if !full.isEmpty && environment.grow() {
                failed.removeAll { ($0.1 as? StoreError)?.code == .mapFull }
                let retried = commit(full)
                committed += retried.committed
                failed += retried.failed
                audit += retried.audit
                monitor.lock()
                stats.mapGrowths += 1
                monitor.unlock()
            }
            monitor.lock()
            stats.writes += committed.count
            stats.failures += failed.count
            if !committed.isEmpty {
                stats.commits += 1
                stats.largestGroup = max(stats.largestGroup, committed.count)
            }
            monitor.unlock()
            if let auditSink, !audit.isEmpty { auditSink(audit) }
            for job in committed { job.deliver() }
            for (job, error) in failed { job.fail(error) }
            monitor.lock()
        }
        monitor.unlock()
    }

    /// Runs the group's jobs and commits what succeeded, once: all in one transaction when none throws,
    /// otherwise each in a child of one transaction.
    private func commit(_ group: [any WriteJob]) -> (
        committed: [any WriteJob], failed: [(any WriteJob, any Error)], audit: [AuditEntry]
    ) {
        if group.count > 1, let together = commitTogether(group) { return together }
        return commitEach(group)
    }

    /// Runs every job directly in one transaction and commits it; nil, with nothing written, as soon as
    /// a job throws (a failed LMDB call can leave the transaction unusable, and the jobs before it must
    /// not be kept in part). A child transaction per job costs LMDB a dirty-page list, a copy of every
    /// page the child touches and a merge at its commit (about a tenth of the writer's CPU per
    /// certificate under issuance load).
    private func commitTogether(_ group: [any WriteJob]) -> (
        committed: [any WriteJob], failed: [(any WriteJob, any Error)], audit: [AuditEntry]
    )? {
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(environment.env, nil, 0, &txn)
        guard rc == 0, let txn else {
            let error = storeError("mdb_txn_begin", rc)
            return ([], group.map { ($0, error) }, [])
        }
        var audit: [AuditEntry] = []
        for job in group {
            let transaction = WriteTransaction(txn)
            do { try job.run(transaction) } catch {
                mdb_txn_abort(txn)
                return nil
            }
            audit += transaction.appendedAudit
        }
        rc = mdb_txn_commit(txn)
        guard rc == 0 else {
            let error = storeError("mdb_txn_commit", rc)
            return ([], group.map { ($0, error) }, [])
        }
        return (group, [], audit)
    }

    /// Runs each job in a child of one transaction (a lone job directly in it) and commits it once.
    private func commitEach(_ group: [any WriteJob]) -> (
        committed: [any WriteJob], failed: [(any WriteJob, any Error)], audit: [AuditEntry]
    ) {
        var parent: OpaquePointer?
        var rc = mdb_txn_begin(environment.env, nil, 0, &parent)
        guard rc == 0 else {
            let error = storeError("mdb_txn_begin", rc)
            return ([], group.map { ($0, error) }, [])
        }
        var succeeded: [any WriteJob] = []
        var audit: [AuditEntry] = []
        var failed: [(any WriteJob, any Error)] = []
        // A lone write needs no child transaction of its own: the group's fate is its fate. (A child
        // costs LMDB a dirty-page list and a merge into the parent at its commit.)
        if group.count == 1, let job = group.first {
            let transaction = WriteTransaction(parent!)
            do { try job.run(transaction) } catch {
                mdb_txn_abort(parent)
                return ([], [(job, error)], [])
            }
            succeeded.append(job)
            audit = transaction.appendedAudit
        }
        for job in group where group.count > 1 {
            var child: OpaquePointer?
            rc = mdb_txn_begin(environment.env, parent, 0, &child)
            guard rc == 0 else {
                failed.append((job, storeError("mdb_txn_begin", rc)))
                continue
            }
            do {
                let transaction = WriteTransaction(child!)
                try job.run(transaction)
                rc = mdb_txn_commit(child)
                if rc == 0 {
                    succeeded.append(job)
                    audit += transaction.appendedAudit
                } else {
                    failed.append((job, storeError("mdb_txn_commit", rc)))
                }
            } catch {
                mdb_txn_abort(child)
                failed.append((job, error))
            }
        }
        guard !succeeded.isEmpty else {
            mdb_txn_abort(parent)
            return ([], failed, [])
        }
        rc = mdb_txn_commit(parent)
        guard rc == 0 else {
            let error = storeError("mdb_txn_commit", rc)
            return ([], failed + succeeded.map { ($0, error) }, [])
        }
        return (succeeded, failed, audit)
    }
}
