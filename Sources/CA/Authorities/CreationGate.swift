/// One creation at a time per key within this process: callers that find a service object (a SCEP RA,
/// an OCSP signer) missing wait here, so that two first requests do not both generate a key. The
/// store's own check (the record's generation) still decides between processes.
actor CreationGate {
    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `body` alone among the callers that pass the same `key`.
    func run<T: Sendable>(_ key: String, _ body: @Sendable () async throws(CAError) -> T) async throws(CAError) -> T {
        await enter(key)
        do {
            let result = try await body()
            leave(key)
            return result
        } catch {
            leave(key)
            throw error
        }
    }

    private func enter(_ key: String) async {
        guard busy.contains(key) else {
            busy.insert(key)
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    /// Hands the key to the next waiter, which then holds it, or frees it.
    private func leave(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            busy.remove(key)
        }
    }
}
