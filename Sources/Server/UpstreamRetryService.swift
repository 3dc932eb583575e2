public import Enrollment
public import Logging
import MetadataStore
public import ServiceLifecycle

/// Sends requests held for an unreachable upstream CA to it again every `interval`
/// (`EnrollmentService.retryRequestsAwaitingUpstream`). Processes sharing a store take turns under a
/// store lease, so that one request is not forwarded by two of them at once.
public struct UpstreamRetryService: Service {
    let enrollment: EnrollmentService
    let interval: Duration
    let lease: StoreLease
    let logger: Logger

    public init(enrollment: EnrollmentService, interval: Duration = .seconds(60), logger: Logger) {
        self.enrollment = enrollment
        self.interval = interval
        self.lease = StoreLease(name: "upstream-retry", term: interval * 3, store: enrollment.authority.store)
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if (try? await lease.hold()) == true {
                    do {
                        let round = try await enrollment.retryRequestsAwaitingUpstream()
                        if round != .init() {
                            logger.notice(
                                "requests held for upstream CAs were sent again",
                                metadata: [
                                    "issued": "\(round.issued)", "waiting": "\(round.waiting)",
                                    "rejected": "\(round.rejected)",
                                ]
                            )
                        }
                    } catch {
                        logger.warning(
                            "the upstream retries failed; they run again later",
                            metadata: ["error": "\(error)"]
                        )
                    }
                }
                try? await Task.sleep(for: interval)
            }
        }
        try? await lease.release()
    }
}
