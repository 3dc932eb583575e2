/// First-come, first-served exclusion per name, for async callers: writers of one secret path take
/// turns, so they do not race for its next version number (which the ciphertext is bound to) and
/// burn HSM operations on encryptions that lose. Waiting suspends; it never blocks a thread.
actor PathLocks {
    /// Holders by name: present while held, with the callers waiting their turn.
    private var queues: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Waits until `name` is free and takes it.
    func acquire(_ name: String) async {
        guard queues[name] != nil else {
            queues[name] = []
            return
        }
        await withCheckedContinuation { queues[name, default: []].append($0) }
    }

    /// Passes `name` to the next waiter, or frees it.
    func release(_ name: String) {
        guard var waiting = queues[name], !waiting.isEmpty else {
            queues[name] = nil
            return
        }
        let next = waiting.removeFirst()
        queues[name] = waiting
        next.resume()
    }

    /// Runs `body` holding `name`.
    nonisolated func with<T: Sendable>(_ name: String, _ body: () async throws(VaultError) -> T)
        async throws(VaultError)
        -> T
    {
        await acquire(name)
        do {
            let result = try await body()
            await release(name)
            return result
        } catch {
            await release(name)
            throw error
        }
    }
}
