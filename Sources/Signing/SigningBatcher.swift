import HSM
import PKCS11
import Synchronization

/// One signature for the batcher: the key, the mechanism and the bytes `C_Sign` gets, and where the
/// result goes. The completion runs on an HSM worker thread and must not block.
struct PendingSignature: Sendable {
    let reference: KeyReference
    let mechanism: Mechanism
    let data: [UInt8]
    let completion: @Sendable (Result<[UInt8], SigningError>) -> Void
}

/// Coalesces signatures from any number of requests into runs on pooled sessions.
///
/// Requests append to one queue. At most one *drainer* per pooled session exists; a drainer is a pool
/// job that, once a worker picks it up, keeps taking up to `runLength` signatures from the queue and
/// signing them on its session until the queue is empty. Under load a worker therefore signs many
/// requests' items back to back without a thread hop per signature, and every session stays busy;
/// when idle, a lone request is signed at once. The queue is bounded: beyond `capacity`, `submit`
/// fails with `overloaded` instead of queueing without end.
///
/// A signature interrupted by a lost session, login, handle or device is not answered: its drainer
/// hands it (and the rest of its run) back to the pool's recovery, which repairs and runs the drainer
/// again. Only when recovery fails do those items carry the error.
final class SigningBatcher: Sendable {
    private struct State {
        var queue: [PendingSignature] = []
        var head = 0
        var drainers = 0
        var count: Int { queue.count - head }

        mutating func take(_ limit: Int) -> [PendingSignature] {
            let end = min(queue.count, head + limit)
            let run = Array(queue[head..<end])
            head = end
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return run
        }
    }

    let pool: SessionPool
    /// Most signatures waiting at once.
    let capacity: Int
    /// Most signatures a drainer takes from the queue at a time.
    let runLength: Int
    private let maxDrainers: Int
    private let state = Mutex(State())

    init(pool: SessionPool, capacity: Int, runLength: Int = 64) {
        self.pool = pool
        self.capacity = capacity
        self.runLength = runLength
        self.maxDrainers = max(1, pool.configuration.sessions)
    }

    /// Signatures waiting for a session.
    var queued: Int { state.withLock { $0.count } }

    /// Queues `signatures`, all or none.
    func submit(_ signatures: [PendingSignature]) throws(SigningError) {
        let start: Int = try state.withLock { (state) throws(SigningError) -> Int in
            guard state.count + signatures.count <= capacity else {
                throw SigningError(
                    .overloaded,
                    "\(state.count) signatures are queued (limit \(capacity)); retry shortly"
                )
            }
            state.queue.append(contentsOf: signatures)
            let wanted = (state.count + runLength - 1) / runLength
            let start = max(0, min(maxDrainers, wanted) - state.drainers)
            state.drainers += start
            return start
        }
        for _ in 0..<start { startDrainer() }
    }

    private func startDrainer() {
        let drainer = Drainer(batcher: self)
        Task {
            do {
                try await pool.withSession { context in try drainer.drain(context) }
            } catch {
                let failure = SigningError.from(error)
                // The run that was interrupted and could not be repaired, or, if no session was had at
                // all, the oldest waiting run: either way the queue shrinks, so this ends.
                var failed = drainer.takeCarried()
                if failed.isEmpty { failed = state.withLock { $0.take(runLength) } }
                for signature in failed { signature.completion(.failure(failure)) }
                let more = state.withLock { state in
                    if state.count > 0 { return true }
                    state.drainers -= 1
                    return false
                }
                if more { startDrainer() }
            }
        }
    }

    /// Takes the next run, or retires the drainer (atomically with seeing the queue empty, so that a
    /// concurrent `submit` either sees this drainer still counted or starts a new one).
    fileprivate func nextRun() -> [PendingSignature]? {
        state.withLock { state in
            if state.count == 0 {
                state.drainers -= 1
                return nil
            }
            return state.take(runLength)
        }
    }
}

/// One drainer's run in progress. Only the worker running it touches `carried`, and the failure path
/// reads it after the pool has given up on the job.
private final class Drainer: @unchecked Sendable {
    // @unchecked: `carried` is used by one thread at a time: the worker during `drain`, then the
    // awaiting task after `withSession` has thrown (the pool's completion orders the two).
    private let batcher: SigningBatcher
    private var carried: [PendingSignature] = []

    init(batcher: SigningBatcher) { self.batcher = batcher }

    func takeCarried() -> [PendingSignature] {
        defer { carried = [] }
        return carried
    }

    func drain(_ context: SessionContext) throws {
        while true {
            let run: [PendingSignature]
            if carried.isEmpty {
                guard let next = batcher.nextRun() else { return }
                run = next
            } else {
                run = carried
                carried = []
            }
            for index in run.indices {
                let signature = run[index]
                do {
                    let key = try context.privateKey(signature.reference)
                    let bytes = try context.session.sign(signature.mechanism, key: key, data: signature.data)
                    signature.completion(.success(bytes))
                } catch {
                    if returnValue(of: error)?.isRecoverable == true {
                        // Not answered: the pool repairs and calls `drain` again, which starts here.
                        carried = Array(run[index...])
                        throw error
                    }
                    signature.completion(.failure(SigningError.from(error)))
                }
            }
        }
    }
}
