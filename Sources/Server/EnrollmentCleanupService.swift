public import Enrollment
public import Logging
public import ServiceLifecycle

/// Sweeps expired ACME nonces, orders and authorizations (`ACMEService.sweep`) and CMP transactions
/// (`EnrollmentService.sweepCMPTransactions`) every few minutes while the server runs; several processes
/// sharing a store may all sweep, as removing is idempotent.
public struct EnrollmentCleanupService: Service {
    let acme: ACMEService
    let interval: Duration
    let logger: Logger

    public init(acme: ACMEService, interval: Duration = .seconds(600), logger: Logger) {
        self.acme = acme
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await acme.sweep() } catch {
                    logger.warning("the ACME sweep failed; it runs again later", metadata: ["error": "\(error)"])
                }
                do { _ = try await acme.enrollment.sweepCMPTransactions() } catch {
                    logger.warning("the CMP sweep failed; it runs again later", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
