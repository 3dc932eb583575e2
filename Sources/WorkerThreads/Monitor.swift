#if canImport(Glibc)
    import Glibc
#endif

/// One mutex with several condition variables, so that waking one kind of waiter does not wake
/// the others: a new job wakes one worker, not every worker and the timeout reaper. Timed waits use
/// the monotonic clock, like `ContinuousClock`.
package final class Monitor: @unchecked Sendable {
    // @unchecked: the pthread objects are used only through the pthread API, which synchronises them.

    /// A condition variable of this monitor.
    package struct Condition {
        fileprivate let index: Int
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let count: Int

    package init(conditions count: Int) {
        self.count = count
        conditions = .allocate(capacity: count)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        for index in 0..<count { pthread_cond_init(conditions + index, &attributes) }
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        for index in 0..<count { pthread_cond_destroy(conditions + index) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func condition(_ index: Int) -> Condition {
        precondition(index < count)  // allowed: programming error, fixed set of conditions
        return Condition(index: index)
    }

    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }

    package func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits on `condition` (the mutex must be held).
    package func wait(_ condition: Condition) { pthread_cond_wait(conditions + condition.index, mutex) }

    /// Waits on `condition` until `deadline` at the latest.
    package func wait(_ condition: Condition, until deadline: ContinuousClock.Instant) {
        let remaining = deadline - .now
        guard remaining > .zero else { return }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        var nanoseconds = Int64(now.tv_nsec) + remaining.components.attoseconds / 1_000_000_000
        var seconds = Int64(now.tv_sec) + remaining.components.seconds + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        if seconds > Int64(Int32.max) * 2 { seconds = Int64(Int32.max) * 2 }
        var until = timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
        pthread_cond_timedwait(conditions + condition.index, mutex, &until)
    }

    package func signal(_ condition: Condition) { pthread_cond_signal(conditions + condition.index) }
    package func broadcast(_ condition: Condition) { pthread_cond_broadcast(conditions + condition.index) }
}
