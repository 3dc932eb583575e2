import Foundation
import Logging
import PostgresNIO
import Synchronization
import WorkerThreads

/// A job for a PostgreSQL worker thread: it runs in a transaction there.
typealias PostgresJob = BlockingJob<PostgresTransaction>

/// Dedicated threads, each with its own connection, taking jobs from one queue: the readers (a job
/// at a time, each in a REPEATABLE READ READ ONLY snapshot) or the writer (one thread; the waiting jobs
/// together in one SERIALIZABLE transaction, run again on a serialization failure).
///
/// @unchecked Sendable: `queue`, `running` and `threads` are only touched with `monitor` locked; each
/// session belongs to its thread.
final class PostgresWorkers: @unchecked Sendable {
    enum Role {
        case reader
        case writer(maxGroup: Int, onCommit: @Sendable (PostgresTransaction) -> Void)
    }

    private let role: Role
    private let tables: PostgresTables
    private let monitor = Monitor(conditions: 1)
    private var queue = JobQueue<any PostgresJob>()
    private var running = true
    private var threads: [DedicatedThread] = []
    private let counters = Counters()

    /// Starts `count` threads on `location`.
    init(
        _ role: Role,
        count: Int,
        location: PostgresLocation,
        configuration: PostgresConnection.Configuration,
        tables: PostgresTables,
        logger: Logger
    ) {
        self.role = role
        self.tables = tables
        let name = if case .writer = role { "custos-pg-writer" } else { "custos-pg-reader" }
        for index in 0..<count {
            let session = SessionBox(
                PostgresSession(location: location, id: index, configuration: configuration, logger: logger)
            )
            let thread = DedicatedThread(name: name) { [self] in work(session.session) }
            monitor.withLock { threads.append(thread) }
        }
    }

    /// Runs `body` on a worker in a transaction and returns its result (for the writer: once committed).
    func perform<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        try await AwaitedJob.perform(repeatable: true, body) { job in
            monitor.lock()
            guard running else {
                monitor.unlock()
                job.fail(StoreError(code: .shutDown, reason: "the PostgreSQL store is shut down"))
                return
            }
            queue.append(job)
            monitor.signal(monitor.condition(0))
            monitor.unlock()
        }
    }

    /// Statements, commits and retries so far.
    var statistics: PostgresStatistics { counters.snapshot() }

    /// Finishes the queued jobs, then stops the threads and closes their connections.
    func shutdown() {
        let joining: [DedicatedThread] = monitor.withLock {
            running = false
            monitor.broadcast(monitor.condition(0))
            return threads
        }
        for thread in joining { thread.join() }
    }

    private func work(_ session: PostgresSession) {
        let groupSize = if case .writer(let maxGroup, _) = role { maxGroup } else { 1 }
        monitor.lock()
        while true {
            while queue.isEmpty && running { monitor.wait(monitor.condition(0)) }
            if queue.isEmpty { break }
            let jobs = queue.popFirst(upTo: groupSize)
            monitor.unlock()
            let before = session.statements
            switch role {
            case .reader: for job in jobs { read(job, session) }
            case .writer(_, let onCommit): write(jobs, session, onCommit: onCommit)
            }
            counters.add(statements: session.statements - before)
            monitor.lock()
        }
        monitor.unlock()
        session.close()
    }

    /// A read: at most two tries (the first may meet a connection the server dropped).
    private func read(_ job: any PostgresJob, _ session: PostgresSession) {
        var attempt = 0
        while true {
            attempt += 1
            let transaction = PostgresTransaction(session: session, tables: tables, writable: false, began: false)
            do {
                try job.run(transaction)
                if transaction.began { try session.rows("COMMIT") }
                job.deliver()
                return
            } catch {
                if transaction.began { _ = try? session.rows("ROLLBACK") }
                if let store = error as? StoreError, store.code == .unavailable, attempt < 2 { continue }
                job.fail(error)
                return
            }
        }
    }

    /// Jobs in one transaction. A job that throws its own error takes the group apart: each then runs
    /// alone. Serialization failures run the group again (up to 20 times, with a growing random pause);
    /// a lost connection fails the group (its commit may or may not have happened: nothing was
    /// acknowledged).
    private func write(
        _ jobs: [any PostgresJob],
        _ session: PostgresSession,
        onCommit: @Sendable (PostgresTransaction) -> Void
    ) {
        var attempt = 0
        while true {
            attempt += 1
            var failedJob: (any PostgresJob, any Error)?
            do {
                try session.rows("BEGIN ISOLATION LEVEL SERIALIZABLE")
                let transaction = PostgresTransaction(session: session, tables: tables, writable: true, began: true)
                for job in jobs {
                    do { try job.run(transaction) } catch let error as StoreError where Self.affectsGroup(error) {
                        throw error
                    } catch {
                        failedJob = (job, error)
                        break
                    }
                }
                if let (job, error) = failedJob {
                    _ = try? session.rows("ROLLBACK")
                    if jobs.count == 1 {
                        job.fail(error)
                    } else {
                        for job in jobs { write([job], session, onCommit: onCommit) }
                    }
                    return
                }
                try transaction.flush()
                try session.rows("COMMIT")
                counters.add(commits: 1, writes: jobs.count)
                onCommit(transaction)
                for job in jobs { job.deliver() }
                return
            } catch {
                _ = try? session.rows("ROLLBACK")
                let store = error as? StoreError
                if store?.code == .conflict && attempt < 20 {
                    counters.add(retries: 1)
                    usleep(UInt32.random(in: 200...1_000) * UInt32(min(attempt, 10)))
                    continue
                }
                counters.add(failures: jobs.count)
                for job in jobs { job.fail(error) }
                return
            }
        }
    }

    /// Errors that concern the transaction rather than the job that met them.
    private static func affectsGroup(_ error: StoreError) -> Bool {
        [.conflict, .unavailable, .readOnly, .database].contains(error.code)
    }
}

/// Hands a session to the thread that owns it.
final class SessionBox: @unchecked Sendable {
    // @unchecked: the session is used only by the one thread it is handed to.
    let session: PostgresSession
    init(_ session: PostgresSession) { self.session = session }
}

/// What the PostgreSQL workers have done.
public struct PostgresStatistics: Sendable, Hashable {
    /// SQL statements sent (BEGIN and COMMIT included).
    public var statements = 0
    /// Transactions committed by the writer.
    public var commits = 0
    /// Writes in those transactions.
    public var writes = 0
    /// Groups run again after a serialization failure.
    public var retries = 0
    /// Writes that failed.
    public var failures = 0
}

/// The workers' figures, counted up from their threads.
private final class Counters: Sendable {
    private let value = Mutex(PostgresStatistics())

    func add(statements: Int = 0, commits: Int = 0, writes: Int = 0, retries: Int = 0, failures: Int = 0) {
        value.withLock {
            $0.statements += statements
            $0.commits += commits
            $0.writes += writes
            $0.retries += retries
            $0.failures += failures
        }
    }

    func snapshot() -> PostgresStatistics { value.withLock { $0 } }
}
