import Logging
import PostgresNIO
import Synchronization
import WorkerThreads

/// The metadata store on PostgreSQL, for several Custos nodes on one database (and OCSP responders on
/// its streaming replicas).
///
/// The same records, index entries, audit chain, change stamps and leases as on LMDB, in tables (see
/// `PostgresTables`). Blocking work runs on dedicated threads with their own connections: readers take
/// REPEATABLE READ READ ONLY snapshots; the one writer per node runs waiting writes together in one
/// SERIALIZABLE transaction and runs them again when another node's transaction conflicts. Every audit
/// append locks the chain's head row, so the nodes share one gapless chain.
///
/// Change stamps are polled every `stampInterval`: a cache on this node learns of another node's change
/// within that time (and of its own node's at once).
public final class PostgresBackend: MetadataBackend {
    public let postgres: PostgresLocation
    /// Whether the database is a hot standby (a streaming replica): reads only; writes fail at once with
    /// `StoreError.readOnly`, without a round trip.
    public let isReadOnly: Bool
    /// How often other nodes' change stamps are read.
    public let stampInterval: Duration
    private let readers: PostgresWorkers
    private let writer: PostgresWorkers
    private let stamps: KnownStamps
    private let watcher: StampWatcher

    private init(
        postgres: PostgresLocation,
        isReadOnly: Bool,
        stampInterval: Duration,
        readers: PostgresWorkers,
        writer: PostgresWorkers,
        stamps: KnownStamps,
        watcher: StampWatcher
    ) {
        self.postgres = postgres
        self.isReadOnly = isReadOnly
        self.stampInterval = stampInterval
        self.readers = readers
        self.writer = writer
        self.stamps = stamps
        self.watcher = watcher
    }

    /// Connects, creates the tables a new database lacks, checks the schema version and starts the
    /// workers. `auditSink` receives each commit's audit entries after the commit (on the writer thread;
    /// it must not block).
    public static func open(
        _ location: PostgresLocation,
        types: [any StoredRecord.Type],
        readers: Int = 4,
        maxGroup: Int = 256,
        stampInterval: Duration = .milliseconds(250),
        auditSink: (@Sendable ([AuditEntry]) -> Void)? = nil
    ) async throws -> PostgresBackend {
        let logger = Logger(label: "custos.store.postgres")
        let configuration = try PostgresSession.configuration(location)
        let tables = PostgresTables(types: types)
        let readOnly = try await runOnDedicatedThread(name: "custos-pg-open") {
            let session = PostgresSession(location: location, id: -1, configuration: configuration, logger: logger)
            defer { session.close() }
            return try tables.prepare(session)
        }
        let stamps = KnownStamps()
        let writer = PostgresWorkers(
            .writer(maxGroup: maxGroup) { transaction in
                let counted = transaction.countedStamps
                if !counted.isEmpty { stamps.merge(counted) }
                if let auditSink, !transaction.appendedAudit.isEmpty { auditSink(transaction.appendedAudit) }
            },
            count: 1,
            location: location,
            configuration: configuration,
            tables: tables,
            logger: logger
        )
        let backend = PostgresBackend(
            postgres: location,
            isReadOnly: readOnly,
            stampInterval: stampInterval,
            readers: PostgresWorkers(
                .reader,
                count: max(1, readers),
                location: location,
                configuration: configuration,
                tables: tables,
                logger: logger
            ),
            writer: writer,
            stamps: stamps,
            watcher: StampWatcher(
                stamps: stamps,
                interval: stampInterval,
                session: PostgresSession(location: location, id: -2, configuration: configuration, logger: logger),
                tables: tables
            )
        )
        try await backend.pollStamps()
        return backend
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T) async throws -> T {
        try await readers.perform { try body($0) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws -> T {
        guard !isReadOnly else {
            throw StoreError(code: .readOnly, reason: "\(location) is a read-only replica; writes go to the primary")
        }
        return try await writer.perform { try body($0) }
    }

    public func knownChangeStamp<R: StoredRecord>(_ type: R.Type) async throws -> UInt64 {
        guard R.tracksChanges else { return 0 }
        return stamps.value(R.table)
    }

    /// Nil: a read waits on the network here.
    public func readWithoutWaiting<T>(_ body: (any MetadataReading) throws -> T) throws -> T? { nil }

    public var directory: String? { nil }
    public var location: String { "PostgreSQL at \(postgres)" + (isReadOnly ? " (read-only replica)" : "") }

    /// Statements, commits and conflicts so far (readers and writer together).
    public var statistics: PostgresStatistics {
        let reads = readers.statistics
        var total = writer.statistics
        total.statements += reads.statements
        return total
    }

    /// Stops polling, finishes queued work and closes every connection.
    public func shutdown() {
        watcher.stop()
        readers.shutdown()
        writer.shutdown()
    }

    /// How far this replica is behind its primary; nil on a primary.
    public struct Replication: Sendable, Equatable {
        /// Time since the last replayed transaction while received WAL waits to be replayed; zero when
        /// everything received is replayed.
        public var lag: Duration
        /// Whether WAL arrives from the primary now (nil: the database user may not see it; grant it
        /// pg_read_all_stats).
        public var streaming: Bool?
    }

    /// The replica's state (one query on a reader); nil when this store is not a replica.
    public func replication() async throws -> Replication? {
        guard isReadOnly else { return nil }
        let (lag, streaming) = try await readers.perform { try $0.replication() }
        return Replication(lag: .microseconds(lag), streaming: streaming)
    }

    /// Reads every change stamp and keeps the newer ones.
    func pollStamps() async throws {
        let current = try await readers.perform { try $0.allChangeStamps() }
        stamps.merge(current)
    }
}

/// The newest change stamp seen per table (stamps only grow).
final class KnownStamps: Sendable {
    private let values = Mutex<[String: UInt64]>([:])

    func merge(_ seen: [String: UInt64]) { values.withLock { $0.merge(seen) { max($0, $1) } } }
    func value(_ table: String) -> UInt64 { values.withLock { $0[table] } ?? 0 }
}

/// Reads every change stamp each interval on a dedicated thread with its own connection, so that other
/// nodes' changes arrive within the interval however busy the cooperative pool or the readers are.
final class StampWatcher: @unchecked Sendable {
    // @unchecked: `running` is only touched with `monitor` locked; the session belongs to the thread.
    private let monitor = Monitor(conditions: 1)
    private var running = true
    private var thread: DedicatedThread?

    init(stamps: KnownStamps, interval: Duration, session: PostgresSession, tables: PostgresTables) {
        let box = SessionBox(session)
        let started = DedicatedThread(name: "custos-pg-stamps") { [self] in
            while wait(interval) {
                let transaction = PostgresTransaction(
                    session: box.session,
                    tables: tables,
                    writable: false,
                    began: true
                )
                if let seen = try? transaction.allChangeStamps() { stamps.merge(seen) }
            }
            box.session.close()
        }
        monitor.withLock { thread = started }
    }

    /// Waits one interval; false once stopped.
    private func wait(_ interval: Duration) -> Bool {
        monitor.withLock {
            if running { monitor.wait(monitor.condition(0), until: .now + interval) }
            return running
        }
    }

    func stop() {
        let joining: DedicatedThread? = monitor.withLock {
            running = false
            monitor.broadcast(monitor.condition(0))
            return thread
        }
        joining?.join()
    }
}
