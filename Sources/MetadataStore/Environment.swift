internal import CLMDB
import Foundation
import Glibc

/// A named LMDB database inside an environment.
public struct Database: Hashable, Sendable, CustomStringConvertible {
    let dbi: UInt32
    /// The name it was opened with.
    public let name: String
    public var description: String { "database \(name)" }
}

/// An LMDB environment: one data file (plus its lock file) in a directory, holding named databases.
///
/// Opened with `MDB_NOTLS`, so a read transaction is not tied to the thread that began it (async code
/// can resume elsewhere). Reads never block; there is one writer (`StoreWriter`), and write
/// transactions never run anywhere else.
public final class Environment: @unchecked Sendable {
    // @unchecked: an MDB_env is safe to share between threads; `databases` is fixed after init.

    /// How to open an environment.
    public struct Configuration: Sendable {
        /// Directory holding `data.mdb` and `lock.mdb`; created (mode 0700) if missing.
        public var path: String
        /// The map size: the most the data file may grow to. LMDB reserves address space, not disk.
        public var mapSize: Int
        /// How far the writer may grow the map (doubling) when it fills; equal to `mapSize` to never grow.
        public var maxMapSize: Int
        /// Named databases to open (created if missing).
        public var databases: [String]
        /// Concurrent read transactions allowed across processes.
        public var maxReaders: UInt32

        public init(
            path: String,
            mapSize: Int = 1 << 30,
            maxMapSize: Int? = nil,
            databases: [String],
            maxReaders: UInt32 = 126
        ) {
            self.path = path
            self.mapSize = mapSize
            self.maxMapSize = max(maxMapSize ?? 64 << 30, mapSize)
            self.databases = databases
            self.maxReaders = maxReaders
        }
    }

    let env: OpaquePointer
    /// The directory of the environment.
    public let path: String
    /// The most the map may grow to.
    public let maxMapSize: Int
    private let databases: [String: Database]
    /// Readers hold it shared; growing the map holds it exclusively (LMDB allows mdb_env_set_mapsize only
    /// while no transaction of this process is active).
    private let gate = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    /// How many `read` calls the current thread is inside (as a pointer-sized integer).
    private static let readDepth: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Opens (creating if needed) the environment and its databases. Blocking: call it at start-up or
    /// from a dedicated thread, not from the cooperative pool.
    public init(_ configuration: Configuration) throws(StoreError) {
        path = configuration.path
        maxMapSize = configuration.maxMapSize
        // Writer-preferring: with glibc's default (readers first) a steady stream of reads (OCSP GETs
        // on every event loop) can keep a growing writer out forever, and every write waits with it.
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if os(Linux)
            pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        pthread_rwlock_init(gate, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw StoreError(
                code: .unavailable,
                reason: "cannot create store directory \(path): \(error.localizedDescription)"
            )
        }
        var handle: OpaquePointer?
        try lmdb("mdb_env_create", mdb_env_create(&handle))
        guard let handle else { throw StoreError(code: .lmdb, reason: "mdb_env_create returned no environment") }
        env = handle
        do {
            try lmdb("mdb_env_set_maxdbs", mdb_env_set_maxdbs(env, MDB_dbi(max(configuration.databases.count, 1))))
            try lmdb("mdb_env_set_mapsize", mdb_env_set_mapsize(env, configuration.mapSize))
            try lmdb("mdb_env_set_maxreaders", mdb_env_set_maxreaders(env, configuration.maxReaders))
            try lmdb("mdb_env_open", mdb_env_open(env, path, UInt32(MDB_NOTLS), 0o600))
        } catch {
            mdb_env_close(env)
            throw StoreError(
                code: error.code,
                lmdbCode: error.lmdbCode,
                function: error.function,
                reason: "cannot open store at \(path): \(error.reason)"
            )
        }
        var opened: [String: Database] = [:]
        do {
            var txn: OpaquePointer?
            try lmdb("mdb_txn_begin", mdb_txn_begin(env, nil, 0, &txn))
            for name in configuration.databases {
                var dbi: MDB_dbi = 0
                let rc = mdb_dbi_open(txn, name, UInt32(MDB_CREATE), &dbi)
                if rc != 0 {
                    mdb_txn_abort(txn)
                    throw storeError("mdb_dbi_open", rc)
                }
                opened[name] = Database(dbi: dbi, name: name)
            }
            try lmdb("mdb_txn_commit", mdb_txn_commit(txn))
        } catch let error as StoreError {
            mdb_env_close(env)
            throw error
        } catch {
            mdb_env_close(env)
            throw StoreError(code: .lmdb, reason: "\(error)")
        }
        databases = opened
    }

    deinit {
        mdb_env_close(env)
        pthread_rwlock_destroy(gate)
        gate.deallocate()
    }

    /// The database opened under `name`.
    public func database(_ name: String) throws(StoreError) -> Database {
        guard let database = databases[name] else {
            throw StoreError(code: .invalidData, reason: "no database \"\(name)\" was opened in \(path)")
        }
        return database
    }

    /// Runs `body` in a read-only transaction. Values are copied out, so nothing returned refers to
    /// the map after the transaction ends. Reads never block writers or each other.
    public func read<T>(_ body: (ReadTransaction) throws -> T) throws -> T {
        // A read inside a read on the same thread holds the gate already: taking it again would wait
        // behind a writer that waits for the outer read.
        let depth = Int(bitPattern: pthread_getspecific(Self.readDepth))
        if depth == 0 { pthread_rwlock_rdlock(gate) }
        pthread_setspecific(Self.readDepth, UnsafeRawPointer(bitPattern: depth + 1))
        defer {
            pthread_setspecific(Self.readDepth, UnsafeRawPointer(bitPattern: depth))
            if depth == 0 { pthread_rwlock_unlock(gate) }
        }
        var txn: OpaquePointer?
        try lmdb("mdb_txn_begin", mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn))
        defer { mdb_txn_abort(txn) }
        return try body(ReadTransaction(txn!))
    }

    /// Doubles the map (up to `maxMapSize`) once every reader has left; returns whether it grew.
    /// Called by the writer between groups, so no write transaction is active either.
    func grow() -> Bool {
        pthread_rwlock_wrlock(gate)
        defer { pthread_rwlock_unlock(gate) }
        let current = usage().mapSize
        guard current < maxMapSize else { return false }
        return mdb_env_set_mapsize(env, min(current * 2, maxMapSize)) == 0
    }

    /// Writes a consistent, compacted copy of the environment into `directory` (which must not exist or
    /// be empty) while the store stays online: LMDB copies from a read transaction. Blocking.
    public func backup(to directory: String) throws(StoreError) {
        let files = FileManager.default
        if let existing = try? files.contentsOfDirectory(atPath: directory), !existing.isEmpty {
            throw StoreError(
                code: .unavailable,
                reason: "backup directory \(directory) is not empty; refusing to overwrite"
            )
        }
        do {
            try files.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw StoreError(
                code: .unavailable,
                reason: "cannot create backup directory \(directory): \(error.localizedDescription)"
            )
        }
        try lmdb("mdb_env_copy2", mdb_env_copy2(env, directory, UInt32(MDB_CP_COMPACT)))
    }

    /// The map size and how much of it is used.
    public func usage() -> (mapSize: Int, usedBytes: Int) {
        var info = MDB_envinfo()
        var stat = MDB_stat()
        mdb_env_info(env, &info)
        mdb_env_stat(env, &stat)
        return (info.me_mapsize, (info.me_last_pgno + 1) * Int(stat.ms_psize))
    }
}
