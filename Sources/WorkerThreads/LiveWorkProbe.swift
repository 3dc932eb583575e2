import Dispatch
import Synchronization

/// When live work last used a shared resource (the HSM), so that work done ahead of need can step aside
/// while requests are waiting for it. The resource notes each job it takes; work that runs inside
/// `inBackground` is not live and leaves the clock where it was. Background work is injected with the
/// probe of the resource it shares and asks `hasBeenIdle(for:)`; the resource knows nothing of who asks.
public final class LiveWorkProbe: Sendable {
    @TaskLocal private static var background = false

    /// When the last live job was noted (`DispatchTime` nanoseconds; 0: none yet).
    private let lastLiveWork = Atomic<UInt64>(0)

    public init() {}

    /// Notes a job the resource takes: live unless the current task runs `inBackground`.
    public func noteJob() {
        if !Self.background { lastLiveWork.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    }

    /// Whether no live job has been noted for `window`.
    public func hasBeenIdle(for window: Duration) -> Bool {
        let last = lastLiveWork.load(ordering: .relaxed)
        guard last != 0 else { return true }
        let elapsed = DispatchTime.now().uptimeNanoseconds &- last
        return Duration.nanoseconds(Int64(clamping: elapsed)) >= window
    }

    /// Runs `body` as background work: the jobs it submits are not live.
    public static func inBackground<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $background.withValue(true) { try await body() }
    }
}
