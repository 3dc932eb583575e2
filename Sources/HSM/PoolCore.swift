// Over 400 lines: the pool's workers, queue and recovery share one lock; their transitions stay together.
import Foundation
import Glibc
import Logging
import PKCS11
import WorkerThreads

/// A job for a pooled session.
typealias PoolJob = BlockingJob<SessionContext>

/// The pool's shared state and worker threads.
final class PoolCore: @unchecked Sendable {
    // @unchecked: every `var` below is read and written only while `monitor` is locked; sessions
    // never leave the worker thread that opened them.

    let module: Module
    let configuration: SessionPoolConfiguration
    let tokenInfo: TokenInfo
    let keys = KeyHandleCache()
    private let logger: Logger
    private let monitor = Monitor(conditions: 3)
    /// Idle workers wait here for jobs (or their keepalive deadline).
    private var work: Monitor.Condition { monitor.condition(0) }
    /// The reaper waits here for the queue's head to expire.
    private var reaper: Monitor.Condition { monitor.condition(1) }
    /// Re-initialisation waits here for busy workers to finish, and workers for it to end.
    private var state: Monitor.Condition { monitor.condition(2) }

    private var slot: SlotID
    private var queue = JobQueue<any PoolJob>()
    private var busy = 0
    private var running = true
    private var started = false
    private var reinitializing = false
    private var threads: [DedicatedThread] = []
    /// Set once the token rejects the PIN: logging in again would only burn PIN tries.
    private var rejectedLogin: HSMError?
    private var stats = PoolStatistics()
    /// The workers' threads, for checks that work runs where it should.
    private var workerThreadIDs: Set<pthread_t> = []
    /// Sessions opened by `init`, taken by the workers as they start.
    private var pendingSessions: [Session] = []

    init(configuration: SessionPoolConfiguration, logger: Logger) throws {
        var configuration = configuration
        guard configuration.sessions >= 1 else {
            throw HSMError(code: .invalidConfiguration, reason: "a pool needs at least one session")
        }
        self.logger = logger
        let opened: (Module, SlotID, TokenInfo)
        switch Self.open(configuration) {
        case .success(let value): opened = value
        case .failure(let error): throw HSMError(code: .pkcs11, reason: error.description, underlying: error)
        }
        (module, slot, tokenInfo) = opened
        let limit = [tokenInfo.maxSessionCount, tokenInfo.maxReadWriteSessionCount].compactMap { $0 }.min()
        if let limit, configuration.sessions > limit {
            logger.warning(
                "token allows \(limit) sessions; pool capped",
                metadata: ["asked": "\(configuration.sessions)"]
            )
            configuration.sessions = limit
        }
        self.configuration = configuration
        // Open every session and log in once, here, so that a wrong PIN fails the start with one clear
        // error. The sessions are handed to the workers as they start rather than closed and reopened:
        // closing an application's last session would log the token out again.
        var sessions: [Session] = []
        do {
            for _ in 0..<configuration.sessions { sessions.append(try module.openSession(slot)) }
        } catch {
            throw HSMError(
                code: .pkcs11,
                reason: "cannot open \(configuration.sessions) sessions: \(error)",
                underlying: error
            )
        }
        try login(sessions[0])
        pendingSessions = sessions
        stats.sessionsOpen = sessions.count
    }

    private static func open(_ configuration: SessionPoolConfiguration) -> Result<
        (Module, SlotID, TokenInfo), PKCS11Error
    > {
        Result { () throws(PKCS11Error) in
            let module = try Module.load(path: configuration.modulePath)
            let slot = try findSlot(module, configuration.token)
            return (module, slot, try module.tokenInfo(slot))
        }
    }

    private static func findSlot(_ module: Module, _ token: TokenSelector) throws(PKCS11Error) -> SlotID {
        switch token {
        case .label(let label): try module.slot(tokenLabel: label)
        case .serial(let serial): try module.slot(tokenSerial: serial)
        }
    }

    // MARK: Lifecycle

    func startWorkers() {
        monitor.lock()
        guard !started else {
            monitor.unlock()
            return
        }
        started = true
        monitor.unlock()
        var spawned: [DedicatedThread] = []
        for index in 0..<configuration.sessions {
            spawned.append(DedicatedThread(name: "custos-hsm-\(index)") { [self] in workerMain() })
        }
        // Linux thread names stop at 15 characters.
        spawned.append(DedicatedThread(name: "custos-reaper") { [self] in reaperMain() })
        monitor.lock()
        threads = spawned
        monitor.unlock()
    }

    func shutdown() {
        monitor.lock()
        guard running else {
            monitor.unlock()
            return
        }
        running = false
        let abandoned = queue.removeAll()
        monitor.broadcast(work)
        monitor.broadcast(reaper)
        monitor.broadcast(state)
        let joining = threads
        monitor.unlock()
        // Join the workers: they close their sessions and drop their references on the way out, so the
        // module can be finalized as soon as the pool itself goes.
        for thread in joining { thread.join() }
        for job in abandoned { job.fail(HSMError(code: .poolShutDown, reason: "the session pool shut down")) }
    }

    func enqueue(_ job: any PoolJob) {
        monitor.lock()
        guard running else {
            monitor.unlock()
            job.fail(HSMError(code: .poolShutDown, reason: "the session pool is shut down"))
            return
        }
        // The reaper sleeps until the head's deadline; only a new head changes that (FIFO, one timeout).
        if queue.isEmpty { monitor.signal(reaper) }
        queue.append(job)
        monitor.signal(work)
        monitor.unlock()
    }

    /// Whether the calling thread is one of this pool's workers.
    var isWorkerThread: Bool {
        monitor.lock()
        defer { monitor.unlock() }
        return workerThreadIDs.contains(pthread_self())
    }

    func snapshot() -> PoolStatistics {
        monitor.lock()
        defer { monitor.unlock() }
        var copy = stats
        copy.inUse = busy
        copy.waiters = queue.count
        return copy
    }

    // MARK: Workers

    /// Under load a worker holds finished results this long (or this many) before handing them back
    /// together: each hand-back wakes a caller thread, which on a small machine often preempts the
    /// worker itself. With an empty queue results go back at once, so light load sees no delay.
    static let coalescingDelay: Duration = .microseconds(600)
    static let coalescingLimit = 16

    private func workerMain() {
        var lastUsed = ContinuousClock.now
        var finished: [any PoolJob] = []
        var finishedSince = ContinuousClock.now
        monitor.lock()
        var session: Session? = pendingSessions.popLast()
        workerThreadIDs.insert(pthread_self())
        while true {
            if !finished.isEmpty
                && (queue.isEmpty || reinitializing || !running || finished.count >= Self.coalescingLimit
                    || ContinuousClock.now - finishedSince >= Self.coalescingDelay)
            {
                monitor.unlock()
                for job in finished { job.deliver() }
                finished.removeAll(keepingCapacity: true)
                monitor.lock()
                continue
            }
            var keepaliveDue = false
            while running && (queue.isEmpty || reinitializing) {
                if let interval = configuration.keepaliveInterval, !reinitializing {
                    let due = lastUsed + interval
                    if due <= .now {
                        keepaliveDue = true
                        break
                    }
                    monitor.wait(work, until: due)
                } else {
                    monitor.wait(work)
                }
            }
            if !running { break }
            let job = reinitializing ? nil : queue.popFirst()
            guard job != nil || keepaliveDue else { continue }
            busy += 1
            if let job {
                let waited = ContinuousClock.now - job.enqueued
                stats.totalWait += waited
                stats.maxWait = max(stats.maxWait, waited)
            }
            monitor.unlock()

            var succeeded = false
            if let job {
                if deadline(of: job) < .now {
                    fail(job, timeoutError())
                } else {
                    succeeded = execute(job, &session)
                }
                if succeeded {
                    if finished.isEmpty { finishedSince = .now }
                    finished.append(job)
                }
            } else {
                keepalive(&session)
            }
            lastUsed = .now

            monitor.lock()
            if succeeded { stats.operations += 1 }
            busy -= 1
            if reinitializing { monitor.broadcast(state) }
        }
        monitor.unlock()
        for job in finished { job.deliver() }
        if session != nil { close(&session) }
    }

    /// Fails jobs whose wait exceeded the timeout while every session was busy.
    private func reaperMain() {
        monitor.lock()
        while running {
            guard let head = queue.first else {
                monitor.wait(reaper)
                continue
            }
            if deadline(of: head) <= .now {
                var expired: [any PoolJob] = []
                while let first = queue.first, deadline(of: first) <= .now, let job = queue.popFirst() {
                    expired.append(job)
                }
                stats.timeouts += expired.count
                monitor.unlock()
                let error = timeoutError()
                for job in expired { job.fail(error) }
                monitor.lock()
            } else {
                monitor.wait(reaper, until: deadline(of: head))
            }
        }
        monitor.unlock()
    }

    /// When `job` times out if no session took it: the wait limit is the same for every job, so the
    /// queue's head is always the first to expire.
    private func deadline(of job: any PoolJob) -> ContinuousClock.Instant {
        job.enqueued + configuration.waitTimeout
    }

    private func timeoutError() -> HSMError {
        HSMError(
            code: .poolTimeout,
            reason:
                "no HSM session became free within \(configuration.waitTimeout) (\(configuration.sessions) sessions)"
        )
    }

    /// Runs `job`, recovering and, where that is safe, retrying once per kind of repair (a lost session
    /// can be followed by handles a concurrent re-login invalidated). Returns whether it succeeded.
    private func execute(_ job: any PoolJob, _ session: inout Session?) -> Bool {
        var repaired: Set<Recovery> = []
        while true {
            let generation = module.generation
            do {
                let current = try ensureSession(&session)
                try job.run(SessionContext(session: current, keys: keys))
                return true
            } catch {
                let recovery = recover(from: error, session: &session, startedAt: generation)
                if let recovery, job.repeatable, repaired.insert(recovery).inserted {
                    continue
                }
                fail(job, error)
                return false
            }
        }
    }

    private func fail(_ job: any PoolJob, _ error: any Error) {
        monitor.lock()
        stats.failures += 1
        monitor.unlock()
        if let error = error as? PKCS11Error {
            job.fail(HSMError(code: .pkcs11, reason: error.description, underlying: error))
        } else {
            job.fail(error)
        }
    }

    private func keepalive(_ session: inout Session?) {
        let generation = module.generation
        let key = configuration.keepaliveKey
        let attempt: (inout Session?) throws -> Void = { [self] session in
            let current = try ensureSession(&session)
            if let key {
                let handle = try keys.handle(key, .privateKey, session: current)
                _ = try current.sign(Mechanism(.ecdsa), key: handle, data: [UInt8](repeating: 0x5A, count: 32))
            } else {
                _ = try current.info()
            }
        }
        do {
            try attempt(&session)
        } catch {
            // Heal now so that the next request finds a working session.
            if recover(from: error, session: &session, startedAt: generation) != nil { try? attempt(&session) }
        }
        monitor.lock()
        stats.keepalives += 1
        monitor.unlock()
    }

    // MARK: Sessions and recovery

    private func ensureSession(_ session: inout Session?) throws -> Session {
        if let current = session, !current.isStale { return current }
        session?.invalidate()
        session = nil
        monitor.lock()
        let slot = self.slot
        monitor.unlock()
        let opened = try module.openSession(slot)
        session = opened
        monitor.lock()
        stats.sessionsOpen += 1
        monitor.unlock()
        // When every session was closed the token logged out: restore the login on the new one.
        try restoreLoginIfNeeded(opened)
        return opened
    }

    private func restoreLoginIfNeeded(_ session: Session) throws {
        guard configuration.pin != nil, tokenInfo.loginRequired, !(try session.info().isLoggedIn) else { return }
        try login(session)
        // A token that logged out may have dropped its private-object handles (SoftHSM does).
        keys.invalidateAll()
        count(recovery: "login")
        logger.warning("HSM login lost; logged in again")
    }

    private func close(_ session: inout Session?) {
        session?.close()
        session = nil
        monitor.lock()
        stats.sessionsOpen -= 1
        monitor.unlock()
    }

    private func dropSession(_ session: inout Session?) {
        guard let current = session else { return }
        current.invalidate()
        session = nil
        monitor.lock()
        stats.sessionsOpen -= 1
        monitor.unlock()
    }

    /// Logs in unless the token needs no login; a rejected PIN is remembered and never tried again.
    private func login(_ session: Session) throws {
        guard let pin = configuration.pin, tokenInfo.loginRequired || configuration.userType != .user else { return }
        monitor.lock()
        let rejected = rejectedLogin
        monitor.unlock()
        if let rejected { throw rejected }
        do {
            try session.login(configuration.userType, pin: pin)
        } catch {
            if let rv = error.returnValue, rv.rejectsPIN {
                let failure = HSMError(
                    code: .loginFailed,
                    reason: "token \(configuration.token) rejected the PIN (\(rv.name)); not retrying",
                    underlying: error
                )
                monitor.lock()
                rejectedLogin = failure
                monitor.unlock()
                throw failure
            }
            throw error
        }
    }

    /// Tries to repair what `error` says is broken. Returns whether the operation may be retried.
    /// What a recovery repaired; a job is retried at most once per kind.
    enum Recovery: Hashable {
        case session, handles, reinitialization
    }

    /// Tries to repair what `error` says is broken. Returns what was repaired, or nil when the error is
    /// not one the pool can repair (or the repair failed).
    private func recover(from error: any Error, session: inout Session?, startedAt generation: UInt64) -> Recovery? {
        guard let rv = returnValue(of: error) else { return nil }
        count(error: rv)
        if rv.requiresNewSession {
            dropSession(&session)
            count(recovery: "session")
            logger.warning("HSM session lost; reopening", metadata: ["rv": "\(rv.name)"])
            return .session
        }
        if rv.requiresLoginOrHandles {
            if rv != .userNotLoggedIn {
                keys.invalidateAll()
                count(recovery: "handles")
            }
            do {
                try restoreLoginIfNeeded(try ensureSession(&session))
                return .handles
            } catch {
                logger.error("HSM login failed during recovery", metadata: ["error": "\(error)"])
                return nil
            }
        }
        if rv.requiresReinitialization {
            return reinitialize(session: &session, startedAt: generation, cause: rv) ? .reinitialization : nil
        }
        return nil
    }

    /// Finalizes and initialises the module with every other worker idle, then finds the token again
    /// and logs in. Only one worker does this; the others wait and then retry on fresh sessions.
    private func reinitialize(session: inout Session?, startedAt generation: UInt64, cause: ReturnValue) -> Bool {
        dropSession(&session)
        monitor.lock()
        if module.generation != generation {
            // Another worker re-initialised since our call started: our failure was part of the same event.
            monitor.unlock()
            return true
        }
        if reinitializing {
            busy -= 1
            monitor.broadcast(state)
            while reinitializing { monitor.wait(state) }
            busy += 1
            monitor.unlock()
            return module.generation != generation
        }
        reinitializing = true
        while busy > 1 { monitor.wait(state) }
        monitor.unlock()

        logger.warning("re-initialising PKCS#11 module", metadata: ["cause": "\(cause.name)"])
        var succeeded = false
        do {
            try module.reinitialize()
            let newSlot = try Self.findSlot(module, configuration.token)
            monitor.lock()
            slot = newSlot
            monitor.unlock()
            keys.invalidateAll()
            let fresh = try module.openSession(newSlot)
            monitor.lock()
            stats.sessionsOpen += 1
            monitor.unlock()
            session = fresh
            try login(fresh)
            succeeded = true
        } catch {
            logger.error("re-initialisation failed", metadata: ["error": "\(error)"])
        }
        monitor.lock()
        reinitializing = false
        stats.recoveries["reinitialize", default: 0] += 1
        monitor.broadcast(state)
        monitor.broadcast(work)
        monitor.unlock()
        return succeeded
    }

    private func count(error rv: ReturnValue) {
        monitor.lock()
        stats.errors[rv.name, default: 0] += 1
        monitor.unlock()
    }

    private func count(recovery kind: String) {
        monitor.lock()
        stats.recoveries[kind, default: 0] += 1
        monitor.unlock()
    }
}
