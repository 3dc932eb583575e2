import Foundation
public import Logging
public import PKCS11
import Synchronization
public import WorkerThreads

/// The pool every private-key operation goes through, one per token.
///
/// Each pooled session belongs to a dedicated worker thread, so PKCS#11 calls (which block) never
/// run on NIO event loops or Swift's cooperative pool, and no session is ever used by two threads at
/// once. Async callers enqueue a job and await its result. A worker that meets a failure recovers
/// without a restart: it reopens its session after `CKR_SESSION_HANDLE_INVALID`, logs in again after
/// `CKR_USER_NOT_LOGGED_IN`, re-finds key handles after `CKR_OBJECT_HANDLE_INVALID`, and re-initialises
/// the whole module (with every other worker quiesced) after `CKR_DEVICE_REMOVED` and its kin; an
/// idempotent job is then retried once.
public final class SessionPool: Sendable {
    private let core: PoolCore
    /// Notes every job the pool takes, so that work done ahead of need (injected with this probe) can
    /// tell whether live requests are using the HSM and step aside.
    public let liveWork = LiveWorkProbe()

    /// The module the pool uses.
    public var module: Module { core.module }
    /// The pool's key handle cache.
    public var keys: KeyHandleCache { core.keys }
    /// The configuration, with `sessions` capped by the token's limits.
    public var configuration: SessionPoolConfiguration { core.configuration }
    /// Token information read at start.
    public var tokenInfo: TokenInfo { core.tokenInfo }

    /// Loads the module, finds the token, logs in once and opens the sessions. Blocking work runs on
    /// a dedicated thread. A rejected PIN fails at once and is not retried.
    public static func start(_ configuration: SessionPoolConfiguration, logger: Logger = Logger(label: "custos.hsm"))
        async throws -> SessionPool
    {
        try await runOnDedicatedThread(name: "custos-hsm-start") {
            SessionPool(core: try PoolCore(configuration: configuration, logger: logger))
        }
    }

    private init(core: PoolCore) {
        self.core = core
        core.startWorkers()
    }

    deinit { core.shutdown() }

    /// Runs `body` on a pooled session's worker thread and returns its result.
    ///
    /// - Parameter idempotent: whether the pool may run `body` a second time on a fresh session after
    ///   a recoverable failure. Pass false for anything that creates objects (key generation).
    public func withSession<T: Sendable>(
        idempotent: Bool = true,
        _ body: @escaping @Sendable (SessionContext) throws -> T
    ) async throws -> T {
        liveWork.noteJob()
        return try await AwaitedJob.perform(repeatable: idempotent, body) { core.enqueue($0) }
    }

    /// Whether the calling thread is one of this pool's session workers (PKCS#11 calls belong there).
    public var isWorkerThread: Bool { core.isWorkerThread }

    /// Current figures.
    public var statistics: PoolStatistics { core.snapshot() }

    /// Stops the workers, fails waiting callers with `poolShutDown`, and closes the sessions. The module
    /// is finalized when the last reference to it goes.
    public func shutdown() { core.shutdown() }
}
