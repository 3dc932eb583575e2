public import CA
public import Logging
public import ServiceLifecycle

/// Runs the CRL schedule while the server runs: once a second, each CA whose CRLs are past half their
/// validity, or whose revocations have waited `crl.revocationDelay`, gets new ones. Nodes sharing a store
/// take turns under the store lease `crl-schedule`; the others still issue when a fetch finds their CRL
/// behind, and serve the holder's CRLs from the store.
public struct CRLScheduleService: Service {
    /// The name of the store lease.
    public static let leaseName = "crl-schedule"
    let leased: LeasedJobService

    public init(authority: CertificateAuthority, interval: Duration = .seconds(1), logger: Logger) {
        let publisher = authority.crls
        leased = LeasedJobService(
            name: Self.leaseName,
            store: authority.store,
            interval: interval,
            logger: logger
        ) { await publisher.publishDue() }
    }

    public func run() async throws { try await leased.run() }
}
