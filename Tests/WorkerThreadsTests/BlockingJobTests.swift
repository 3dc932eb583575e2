import Synchronization
import Testing
import WorkerThreads

/// The queue and job type the HSM pool and the store writer share, driven by real dedicated threads.
@Suite struct BlockingJobTests {
    @Test func queueKeepsOrderAcrossCompaction() {
        var queue = JobQueue<Int>()
        var expected: [Int] = []
        var taken: [Int] = []
        // Enough pops to pass the compaction threshold several times, interleaved with appends.
        for round in 0..<10 {
            for value in 0..<100 { queue.append(round * 100 + value) }
            expected += (0..<100).map { round * 100 + $0 }
            taken += queue.popFirst(upTo: 70)
        }
        #expect(queue.count == 300)
        #expect(queue.first == 700)
        taken += queue.removeAll()
        #expect(taken == expected)
        #expect(queue.isEmpty && queue.popFirst() == nil && queue.first == nil)
        #expect(queue.popFirst(upTo: 5).isEmpty)
    }

    @Test func jobRunsOnTheThreadThatTookItAndDeliversItsResult() async throws {
        let runner = Runner()
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for value in 0..<50 {
                group.addTask {
                    try await AwaitedJob<Runner.Context, Int>.perform(
                        repeatable: true,
                        { context in
                            #expect(context.onRunner())
                            return value * 2
                        }
                    ) { runner.enqueue($0) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values.sorted() == (0..<50).map { $0 * 2 })
        runner.stop()
    }

    @Test func failuresAndAbandonedJobsReachTheCaller() async {
        struct Refused: Error, Equatable {}
        let runner = Runner()
        await #expect(throws: Refused.self) {
            try await AwaitedJob<Runner.Context, Int>.perform(repeatable: false, { _ in throw Refused() }) {
                #expect(!$0.repeatable)
                runner.enqueue($0)
            }
        }
        runner.stop()
        await #expect(throws: Runner.Stopped.self) {
            try await AwaitedJob<Runner.Context, Int>.perform(repeatable: true, { _ in 1 }) { runner.enqueue($0) }
        }
    }
}

/// A minimal owner of a queue: one dedicated thread, the same hand-off the pool and the writer use.
private final class Runner: Sendable {
    struct Context { let onRunner: @Sendable () -> Bool }
    struct Stopped: Error {}
    private let state = Mutex<(queue: JobQueue<any BlockingJob<Context>>, running: Bool)>((JobQueue(), true))
    private let monitor = Monitor(conditions: 1)
    private let thread = Mutex<DedicatedThread?>(nil)

    init() {
        let started = DedicatedThread(name: "test-runner") { [self] in run() }
        thread.withLock { $0 = started }
    }

    func enqueue(_ job: any BlockingJob<Context>) {
        monitor.lock()
        let accepted = state.withLock { state in
            guard state.running else { return false }
            state.queue.append(job)
            return true
        }
        monitor.signal(monitor.condition(0))
        monitor.unlock()
        if !accepted { job.fail(Stopped()) }
    }

    func stop() {
        monitor.withLock {
            state.withLock { $0.running = false }
            monitor.signal(monitor.condition(0))
        }
        thread.withLock { $0 }?.join()
    }

    private func run() {
        let context = Context(onRunner: { [self] in thread.withLock { $0?.isCurrent ?? false } })
        monitor.lock()
        while true {
            let (jobs, running) = state.withLock { ($0.queue.removeAll(), $0.running) }
            if jobs.isEmpty {
                if !running { break }
                monitor.wait(monitor.condition(0))
                continue
            }
            monitor.unlock()
            for job in jobs {
                do {
                    try job.run(context)
                    job.deliver()
                } catch {
                    job.fail(error)
                }
            }
            monitor.lock()
        }
        monitor.unlock()
    }
}
