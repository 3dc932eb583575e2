import ACME

/// Bounds how many validations run at once and how many may wait: a client cannot make the validator
/// open unbounded connections, and a flood of challenges is refused instead of queued without end.
actor ValidationSlots {
    private let capacity: Int
    private let maxWaiting: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int, maxWaiting: Int) {
        self.capacity = max(1, capacity)
        self.maxWaiting = max(0, maxWaiting)
    }

    /// Whether a slot is free or a place in the queue is.
    var hasRoom: Bool { running < capacity || waiting.count < maxWaiting }

    /// Runs `body` in a slot, waiting for one if all are taken.
    func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        if running < capacity {
            running += 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        let result = await body()
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
        return result
    }
}
