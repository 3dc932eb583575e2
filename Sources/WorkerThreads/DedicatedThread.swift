import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An OS thread that runs one closure and can be joined. Blocking work (PKCS#11 sessions, LMDB
/// writes) runs on these, never on the cooperative pool, and shutting down joins them so that
/// everything they held is released before shutdown returns.
package final class DedicatedThread: @unchecked Sendable {
    // @unchecked: `thread` is written once in init before the thread can observe it and read-only after.
    private var thread = pthread_t()
    private let lock = NSLock()
    private var joined = false

    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    package init(name: String, _ run: @escaping @Sendable () -> Void) {
        let body = Unmanaged.passRetained(Body(name: name, run: run)).toOpaque()
        let rc = pthread_create(
            &thread,
            nil,
            { context in
                let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
                Thread.current.name = body.name  // sets the OS thread name too: visible in top, gdb, perf
                body.run()
                return nil
            },
            body
        )
        precondition(rc == 0, "pthread_create failed: \(rc)")  // allowed: out of threads is not recoverable here
    }

    /// Whether the caller is this thread.
    package var isCurrent: Bool { pthread_equal(thread, pthread_self()) != 0 }

    /// Waits for the thread to finish; once only, and never from the thread itself.
    package func join() {
        lock.lock()
        defer { lock.unlock() }
        guard !joined, !isCurrent else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// Runs blocking `work` on a new thread and awaits it, keeping it off the cooperative pool.
package func runOnDedicatedThread<T: Sendable>(name: String, _ work: @escaping @Sendable () throws -> T) async throws
    -> T
{
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            Thread.current.name = name
            continuation.resume(with: Result { try work() })
        }
        thread.start()
    }
}
