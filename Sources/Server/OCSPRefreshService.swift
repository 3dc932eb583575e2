public import CA
public import ServiceLifecycle

/// Keeps the OCSP responses signed ahead fresh while the server runs: every few seconds, responses
/// past half their validity are signed again and certificates without one get one, a bounded number
/// per pass so that live requests keep most of the HSM.
public struct OCSPRefreshService: Service {
    let responder: OCSPResponder
    let interval: Duration

    public init(responder: OCSPResponder, interval: Duration = .seconds(5)) {
        self.responder = responder
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let signed = await responder.refreshDue(limit: 1_000)
                ServerMetrics.ocspPresigned(signed)
                // A full pass means there is more to do: go on at once.
                if signed < 1_000 { try? await Task.sleep(for: interval) }
            }
        }
    }
}
