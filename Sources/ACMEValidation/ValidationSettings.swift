/// How Custos checks ACME challenges: where it looks names up, which ports it connects to, and how
/// long and how often it tries. One set per server (a deployment's network, not a profile's policy).
public struct ValidationSettings: Sendable, Hashable {
    /// DNS resolvers as `address:port` (`[v6]:port` for IPv6), asked in order; empty: the nameservers
    /// of `/etc/resolv.conf`, port 53.
    public var resolvers: [String]
    /// The port http-01 connects to (80; tests point it at a local responder).
    public var http01Port: Int
    /// The port tls-alpn-01 connects to (443).
    public var tlsALPN01Port: Int
    /// Longest time one attempt may take, connection, lookup and answer included.
    public var attemptTimeout: Duration
    /// Attempts per challenge before it is invalid (RFC 8555 section 8.2 lets a server retry).
    public var attempts: Int
    /// Wait between attempts.
    public var retryDelay: Duration
    /// Validations running at once; further ones wait for a slot.
    public var maxConcurrent: Int
    /// Validations that may wait for a slot; beyond this a challenge is refused with `rateLimited`.
    public var maxWaiting: Int
    /// Redirects http-01 follows (RFC 8555 section 8.3 allows them, to ports 80 and 443).
    public var maxRedirects: Int

    public init(
        resolvers: [String] = [],
        http01Port: Int = 80,
        tlsALPN01Port: Int = 443,
        attemptTimeout: Duration = .seconds(10),
        attempts: Int = 3,
        retryDelay: Duration = .seconds(3),
        maxConcurrent: Int = 32,
        maxWaiting: Int = 1024,
        maxRedirects: Int = 10
    ) {
        self.resolvers = resolvers
        self.http01Port = http01Port
        self.tlsALPN01Port = tlsALPN01Port
        self.attemptTimeout = attemptTimeout
        self.attempts = attempts
        self.retryDelay = retryDelay
        self.maxConcurrent = maxConcurrent
        self.maxWaiting = maxWaiting
        self.maxRedirects = maxRedirects
    }
}
