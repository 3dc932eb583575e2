public import ACME

/// Checks ACME challenges against the network (http-01, dns-01, tls-alpn-01) with bounded time and
/// concurrency: each attempt ends at `attemptTimeout` whatever the other side does, at most
/// `maxConcurrent` run at once, and a failed attempt is tried again `attempts` times in all.
public final class ChallengeValidator: Sendable {
    /// The challenge types Custos validates, in the order it offers them.
    public static let types = ["http-01", "dns-01", "tls-alpn-01"]

    public let settings: ValidationSettings
    let resolver: DNSResolver
    let slots: ValidationSlots

    /// Throws when a resolver is not `address:port` or none is configured or found.
    public init(settings: ValidationSettings) throws {
        self.settings = settings
        resolver = try DNSResolver(resolvers: settings.resolvers, timeout: settings.attemptTimeout)
        slots = ValidationSlots(capacity: settings.maxConcurrent, maxWaiting: settings.maxWaiting)
    }

    /// Whether another validation may start or queue now.
    public func hasRoom() async -> Bool { await slots.hasRoom }

    /// The key authorization of a token for an account key (RFC 8555 section 8.1).
    public static func keyAuthorization(token: String, thumbprint: String) -> String { token + "." + thumbprint }

    /// Validates a challenge; nil when the identifier's owner answered as it should, else the last
    /// attempt's problem.
    public func validate(type: String, identifier: ACMEIdentifier, token: String, thumbprint: String) async
        -> ACMEProblem?
    {
        await slots.run {
            var problem: ACMEProblem?
            for attempt in 1...max(1, settings.attempts) {
                if attempt > 1 { try? await Task.sleep(for: settings.retryDelay) }
                problem = await attemptOnce(type: type, identifier: identifier, token: token, thumbprint: thumbprint)
                if problem == nil { return nil }
            }
            return problem
        }
    }

    private func attemptOnce(type: String, identifier: ACMEIdentifier, token: String, thumbprint: String) async
        -> ACMEProblem?
    {
        let keyAuthorization = Self.keyAuthorization(token: token, thumbprint: thumbprint)
        let timeout = settings.attemptTimeout
        return await withTaskGroup(of: ACMEProblem?.self) { group in
            group.addTask { [self] in
                do throws(ACMEProblem) {
                    switch type {
                    case "http-01":
                        try await HTTP01Check(resolver: resolver, settings: settings)
                            .check(identifier, token: token, keyAuthorization: keyAuthorization)
                    case "dns-01":
                        try await DNS01Check(resolver: resolver).check(identifier, keyAuthorization: keyAuthorization)
                    case "tls-alpn-01":
                        try await TLSALPN01Check(resolver: resolver, settings: settings)
                            .check(identifier, keyAuthorization: keyAuthorization)
                    default:
                        throw ACMEProblem(.malformed, "challenge type \(type) is not validated")
                    }
                    return nil
                } catch {
                    return error
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return ACMEProblem(.connection, "no answer within \(timeout)")
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
