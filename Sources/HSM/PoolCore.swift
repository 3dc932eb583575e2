import Foundation
import Glibc
import Logging
import PKCS11

/// The pool's shared state and worker threads.
final class PoolCore: @unchecked Sendable {
    // @unchecked: every `var` below is read and written only while `condition` is locked; sessions
    // never leave the worker thread that opened them.

    let module: Module
    let configuration: SessionPoolConfiguration
    let tokenInfo: TokenInfo
    let keys = KeyHandleCache()
    private let logger: Logger
    private let condition = NSCondition()

    private var slot: SlotID
    private var queue = JobQueue()
    private var busy = 0
    private var running = true
    private var started = false
    private var reinitializing = false
    private var threads: [DedicatedThread] = []
    /// Set once the token rejects the PIN: logging in again would only burn PIN tries.
    private var rejectedLogin: HSMError?
    private var stats = PoolStatistics()
    /// Kernel thread ids of the workers, for checks that work runs where it should.
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
            logger.warning("token allows \(limit) sessions; pool capped", metadata: ["asked": "\(configuration.sessions)"])
            configuration.sessions = limit
        }
        self.configuration = configuration
        // Log in once, here, so that a wrong PIN fails the start with one clear error.
        // Open every session now and log in once. The sessions are handed to the workers as they
        // start: closing the last session of an application would log the token out again.
        var sessions: [Session] = []
        do {
            for _ in 0..<configuration.sessions { sessions.append(try module.openSession(slot)) }
        } catch {
            throw HSMError(code: .pkcs11, reason: "cannot open \(configuration.sessions) sessions: \(error)", underlying: error)
        }
        try login(sessions[0])
        pendingSessions = sessions
        stats.sessionsOpen = sessions.count
    }

    private static func open(_ configuration: SessionPoolConfiguration) -> Result<(Module, SlotID, TokenInfo), PKCS11Error> {
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
        condition.lock()
        guard !started else {
            condition.unlock()
            return
        }
        started = true
        condition.unlock()
        var spawned: [DedicatedThread] = []
        for index in 0..<configuration.sessions {
            spawned.append(DedicatedThread(name: "custos-hsm-\(index)") { [self] in workerMain() })
        }
        spawned.append(DedicatedThread(name: "custos-hsm-reaper") { [self] in reaperMain() })
        condition.lock()
        threads = spawned
        condition.unlock()
    }

    func shutdown() {
        condition.lock()
        guard running else {
            condition.unlock()
            return
        }
        running = false
        var abandoned: [Job] = []
        while let job = queue.popFirst() { abandoned.append(job) }
        condition.broadcast()
        let joining = threads
        condition.unlock()
        // Join the workers: they close their sessions and drop their references on the way out, so the
        // module can be finalized as soon as the pool itself goes.
        for thread in joining { thread.join() }
        for job in abandoned { job.fail(HSMError(code: .poolShutDown, reason: "the session pool shut down")) }
    }

    func enqueue(_ job: Job) {
        condition.lock()
        guard running else {
            condition.unlock()
            job.fail(HSMError(code: .poolShutDown, reason: "the session pool is shut down"))
            return
        }
        queue.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Whether the calling thread is one of this pool's workers.
    var isWorkerThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return workerThreadIDs.contains(pthread_self())
    }

    func snapshot() -> PoolStatistics {
        condition.lock()
        defer { condition.unlock() }
        var copy = stats
        copy.inUse = busy
        copy.waiters = queue.count
        return copy
    }

    // MARK: Workers

    private func workerMain() {
        var lastUsed = ContinuousClock.now
        condition.lock()
        var session: Session? = pendingSessions.popLast()
        workerThreadIDs.insert(pthread_self())
        while true {
            var keepaliveDue = false
            while running && (queue.isEmpty || reinitializing) {
                if let interval = configuration.keepaliveInterval, !reinitializing {
                    let due = lastUsed + interval
                    if due <= .now {
                        keepaliveDue = true
                        break
                    }
                    _ = condition.wait(until: Self.date(of: due))
                } else {
                    condition.wait()
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
            condition.unlock()

            if let job {
                if job.deadline < .now {
                    fail(job, timeoutError())
                } else {
                    execute(job, &session)
                }
            } else {
                keepalive(&session)
            }
            lastUsed = .now

            condition.lock()
            busy -= 1
            condition.broadcast()
        }
        condition.unlock()
        if session != nil { close(&session) }
    }

    /// Fails jobs whose wait exceeded the timeout while every session was busy.
    private func reaperMain() {
        condition.lock()
        while running {
            guard let head = queue.first else {
                condition.wait()
                continue
            }
            if head.deadline <= .now {
                var expired: [Job] = []
                while let first = queue.first, first.deadline <= .now, let job = queue.popFirst() {
                    expired.append(job)
                }
                stats.timeouts += expired.count
                condition.unlock()
                let error = timeoutError()
                for job in expired { job.fail(error) }
                condition.lock()
            } else {
                _ = condition.wait(until: Self.date(of: head.deadline))
            }
        }
        condition.unlock()
    }

    private func timeoutError() -> HSMError {
        HSMError(
            code: .poolTimeout,
            reason: "no HSM session became free within \(configuration.waitTimeout) (\(configuration.sessions) sessions)")
    }

    private func execute(_ job: Job, _ session: inout Session?) {
        var retried = false
        while true {
            let generation = module.generation
            do {
                let current = try ensureSession(&session)
                try job.run(SessionContext(session: current, keys: keys))
                condition.lock()
                stats.operations += 1
                condition.unlock()
                return
            } catch {
                let recovered = recover(from: error, session: &session, startedAt: generation)
                if recovered && job.idempotent && !retried {
                    retried = true
                    continue
                }
                fail(job, error)
                return
            }
        }
    }

    private func fail(_ job: Job, _ error: any Error) {
        condition.lock()
        stats.failures += 1
        condition.unlock()
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
            if recover(from: error, session: &session, startedAt: generation) { try? attempt(&session) }
        }
        condition.lock()
        stats.keepalives += 1
        condition.unlock()
    }

    // MARK: Sessions and recovery

    private func ensureSession(_ session: inout Session?) throws -> Session {
        if let current = session, !current.isStale { return current }
        session?.invalidate()
        session = nil
        condition.lock()
        let slot = self.slot
        condition.unlock()
        let opened = try module.openSession(slot)
        session = opened
        condition.lock()
        stats.sessionsOpen += 1
        condition.unlock()
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
        condition.lock()
        stats.sessionsOpen -= 1
        condition.unlock()
    }

    private func dropSession(_ session: inout Session?) {
        guard let current = session else { return }
        current.invalidate()
        session = nil
        condition.lock()
        stats.sessionsOpen -= 1
        condition.unlock()
    }

    /// Logs in unless the token needs no login; a rejected PIN is remembered and never tried again.
    private func login(_ session: Session) throws {
        guard let pin = configuration.pin, tokenInfo.loginRequired || configuration.userType != .user else { return }
        condition.lock()
        let rejected = rejectedLogin
        condition.unlock()
        if let rejected { throw rejected }
        do {
            try session.login(configuration.userType, pin: pin)
        } catch {
            let pinProblems: [ReturnValue] = [.pinIncorrect, .pinInvalid, .pinLenRange, .pinLocked, .pinExpired]
            if let rv = error.returnValue, pinProblems.contains(rv) {
                let failure = HSMError(
                    code: .loginFailed,
                    reason: "token \(configuration.token) rejected the PIN (\(rv.name)); not retrying", underlying: error)
                condition.lock()
                rejectedLogin = failure
                condition.unlock()
                throw failure
            }
            throw error
        }
    }

    /// Tries to repair what `error` says is broken. Returns whether the operation may be retried.
    private func recover(from error: any Error, session: inout Session?, startedAt generation: UInt64) -> Bool {
        let pkcs11 = (error as? PKCS11Error) ?? (error as? HSMError)?.underlying
        guard let rv = pkcs11?.returnValue else { return false }
        count(error: rv)
        if rv.invalidatesSession {
            dropSession(&session)
            count(recovery: "session")
            logger.warning("HSM session lost; reopening", metadata: ["rv": "\(rv.name)"])
            return true
        }
        if rv == .userNotLoggedIn || rv == .objectHandleInvalid || rv == .keyHandleInvalid {
            if rv != .userNotLoggedIn {
                keys.invalidateAll()
                count(recovery: "handles")
            }
            // Private objects vanish from a logged-out session, so a lost login can look like a bad handle.
            do {
                try restoreLoginIfNeeded(try ensureSession(&session))
                return true
            } catch {
                logger.error("HSM login failed during recovery", metadata: ["error": "\(error)"])
                return false
            }
        }
        if rv.requiresReinitialization {
            return reinitialize(session: &session, startedAt: generation, cause: rv)
        }
        return false
    }

    /// Finalizes and initialises the module with every other worker idle, then finds the token again
    /// and logs in. Only one worker does this; the others wait and then retry on fresh sessions.
    private func reinitialize(session: inout Session?, startedAt generation: UInt64, cause: ReturnValue) -> Bool {
        dropSession(&session)
        condition.lock()
        if module.generation != generation {
            // Another worker re-initialised since our call started: our failure was part of the same event.
            condition.unlock()
            return true
        }
        if reinitializing {
            busy -= 1
            while reinitializing { condition.wait() }
            busy += 1
            condition.unlock()
            return module.generation != generation
        }
        reinitializing = true
        while busy > 1 { condition.wait() }
        condition.unlock()

        logger.warning("re-initialising PKCS#11 module", metadata: ["cause": "\(cause.name)"])
        var succeeded = false
        do {
            try module.reinitialize()
            let newSlot = try Self.findSlot(module, configuration.token)
            condition.lock()
            slot = newSlot
            condition.unlock()
            keys.invalidateAll()
            let fresh = try module.openSession(newSlot)
            condition.lock()
            stats.sessionsOpen += 1
            condition.unlock()
            session = fresh
            try login(fresh)
            succeeded = true
        } catch {
            logger.error("re-initialisation failed", metadata: ["error": "\(error)"])
        }
        condition.lock()
        reinitializing = false
        stats.recoveries["reinitialize", default: 0] += 1
        condition.broadcast()
        condition.unlock()
        return succeeded
    }

    private func count(error rv: ReturnValue) {
        condition.lock()
        stats.errors[rv.name, default: 0] += 1
        condition.unlock()
    }

    private func count(recovery kind: String) {
        condition.lock()
        stats.recoveries[kind, default: 0] += 1
        condition.unlock()
    }

    private static func date(of instant: ContinuousClock.Instant) -> Date {
        let remaining = instant - .now
        let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18
        return Date(timeIntervalSinceNow: max(seconds, 0))
    }
}
