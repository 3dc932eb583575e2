import Dispatch
import Foundation
import Synchronization

/// Catches SIGINT and SIGTERM from the moment it is created, so that a signal that arrives before
/// anyone waits still leads to a clean shutdown rather than the default action.
final class TerminationSignal: Sendable {
    private struct State {
        var received: Int32?
        var waiter: CheckedContinuation<Int32, Never>?
    }
    private let state = Mutex(State())
    // Dispatch sources are thread-safe; kept only to stay alive until deinit.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for source in sources {
            let number = Int32(source.handle)
            source.setEventHandler { [weak self] in self?.receive(number) }
            source.resume()
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    private func receive(_ number: Int32) {
        let waiter = state.withLock { state -> CheckedContinuation<Int32, Never>? in
            guard state.received == nil else { return nil }
            state.received = number
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: number)
    }

    /// The first signal received, or nil if `task` ends first (a server that could not start).
    func wait(orUntil task: Task<Void, any Error>) async -> Int32? {
        Task {
            _ = await task.result
            receive(0)
        }
        let received = await wait()
        return received == 0 ? nil : received
    }

    /// The first signal received, waiting for one if none has arrived yet.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let received = state.withLock { state -> Int32? in
                if let received = state.received { return received }
                state.waiter = continuation
                return nil
            }
            if let received { continuation.resume(returning: received) }
        }
    }
}
