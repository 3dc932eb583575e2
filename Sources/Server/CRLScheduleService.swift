public import CA
public import ServiceLifecycle

/// Runs the CRL schedule while the server runs: once a second, each CA whose CRLs are past half their
/// validity, or whose revocations have waited `crl.revocationDelay`, gets new ones.
public struct CRLScheduleService: Service {
    let publisher: CRLPublisher

    public init(publisher: CRLPublisher) { self.publisher = publisher }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await publisher.publishDue()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
