import Synchronization

/// Token buckets per credential: each signature costs one token; a bucket refills at `rate` per second
/// up to `burst`. A request that would overdraw is told the seconds until it would fit (the server
/// answers 429 with `Retry-After`).
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }
    /// Tokens (signatures) per second.
    public let rate: Double
    /// The most tokens a bucket holds.
    public let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(burst, 1)
    }

    /// Takes `cost` tokens from `id`'s bucket, or returns how many seconds to wait.
    public func take(_ cost: Int, for id: String, now: ContinuousClock.Instant = .now) -> Int? {
        let cost = Double(cost)
        return buckets.withLock { buckets in
            var bucket = buckets[id] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            guard bucket.tokens >= cost || (cost > burst && bucket.tokens >= burst) else {
                buckets[id] = bucket
                return max(1, Int(((min(cost, burst) - bucket.tokens) / rate).rounded(.up)))
            }
            bucket.tokens -= cost
            buckets[id] = bucket
            return nil
        }
    }
}
