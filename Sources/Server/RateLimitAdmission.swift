import Access
import Hummingbird

extension RateLimiter {
    /// Takes `cost` tokens for the request's credential or answers 429 with `Retry-After`.
    func admit(_ cost: Int, _ context: CustosRequestContext) throws(APIError) {
        guard let id = context.credential?.id else { return }
        if let wait = take(cost, for: id) {
            throw APIError(
                .tooManyRequests,
                "rate_limited",
                "this credential may sign \(rate) signatures per second (burst \(Int(burst)))",
                headers: [.retryAfter: String(wait)]
            )
        }
    }
}
