/// One piece of blocking work queued for a dedicated thread: it runs there with a context only that
/// thread owns (a PKCS#11 session, an LMDB write transaction) and then hands its result to the caller
/// that awaits it. The HSM session pool and the store writer queue these; each is one allocation.
package protocol BlockingJob<Context>: AnyObject, Sendable {
    associatedtype Context
    /// When the job was queued (the pool times out jobs that waited too long from here).
    var enqueued: ContinuousClock.Instant { get }
    /// Whether the job may run again after a failure its runner repaired, or in a fresh transaction.
    var repeatable: Bool { get }
    /// Runs the work and keeps its result; throws without keeping anything.
    func run(_ context: Context) throws
    /// Hands the kept result to the caller; called once, after a `run` that returned.
    func deliver()
    /// Hands a failure to the caller instead.
    func fail(_ error: any Error)
}

/// A job whose caller awaits its result through a continuation.
package final class AwaitedJob<Context, Value: Sendable>: BlockingJob, @unchecked Sendable {
    // @unchecked: `result` is written in run() and read in deliver(), both on the one thread that took
    // the job; the continuation is resumed exactly once, by whichever path completes the job.
    package let enqueued = ContinuousClock.now
    package let repeatable: Bool
    private let body: @Sendable (Context) throws -> Value
    private let continuation: UnsafeContinuation<Value, any Error>
    private var result: Value?

    private init(
        repeatable: Bool,
        body: @escaping @Sendable (Context) throws -> Value,
        continuation: UnsafeContinuation<Value, any Error>
    ) {
        self.repeatable = repeatable
        self.body = body
        self.continuation = continuation
    }

    /// Queues `body` with `enqueue` and suspends until a thread has run it and delivered the result.
    /// `enqueue` must see that the job completes exactly once: delivered, failed or abandoned with an error.
    package static func perform(
        repeatable: Bool,
        _ body: @escaping @Sendable (Context) throws -> Value,
        enqueue: (AwaitedJob) -> Void
    ) async throws -> Value {
        // Unsafe rather than checked: the queues resume every job exactly once, and the checked
        // continuation's bookkeeping shows up in the signing and issuance profiles.
        try await withUnsafeThrowingContinuation { continuation in
            enqueue(AwaitedJob(repeatable: repeatable, body: body, continuation: continuation))
        }
    }

    package func run(_ context: Context) throws { result = try body(context) }
    package func deliver() { continuation.resume(returning: result!) }
    package func fail(_ error: any Error) { continuation.resume(throwing: error) }
}

/// A FIFO of jobs with amortised O(1) removal at the front. Not synchronised: its owner keeps it under
/// the same lock as the rest of its state (workers, shutdown), so that one lock covers a hand-off.
package struct JobQueue<Job> {
    private var items: [Job?] = []
    private var head = 0

    package init() {}

    package var isEmpty: Bool { head == items.count }
    package var count: Int { items.count - head }
    package var first: Job? { isEmpty ? nil : items[head] }

    package mutating func append(_ job: Job) { items.append(job) }

    package mutating func popFirst() -> Job? {
        guard !isEmpty else { return nil }
        let job = items[head]
        items[head] = nil
        head += 1
        if head > 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return job
    }

    /// Removes and returns up to `limit` jobs from the front, in order.
    package mutating func popFirst(upTo limit: Int) -> [Job] {
        var taken: [Job] = []
        taken.reserveCapacity(min(limit, count))
        while taken.count < limit, let job = popFirst() { taken.append(job) }
        return taken
    }

    /// Removes and returns every job.
    package mutating func removeAll() -> [Job] { popFirst(upTo: count) }
}
