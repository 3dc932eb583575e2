public import Signing

/// What the HTTP service needs beyond its components: where to listen and what to accept.
public struct ServerConfiguration: Sendable {
    /// Per-credential signing rate.
    public struct RateLimit: Sendable, Hashable {
        public var signaturesPerSecond: Double
        public var burst: Double
        public init(signaturesPerSecond: Double, burst: Double) {
            self.signaturesPerSecond = signaturesPerSecond
            self.burst = burst
        }
    }

    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    /// Largest request body in bytes; larger ones get 413.
    public var maxBodyBytes: Int
    public var signing: SigningService.Limits
    /// Nil: no per-credential limit.
    public var rateLimit: RateLimit?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxBodyBytes: Int = 4 << 20,
        signing: SigningService.Limits = .init(),
        rateLimit: RateLimit? = nil
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.signing = signing
        self.rateLimit = rateLimit
    }
}
