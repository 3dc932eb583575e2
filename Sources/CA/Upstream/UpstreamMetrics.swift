import Foundation
import Metrics

/// What operators watch of upstream CAs: exchanges by CA, protocol, operation and outcome
/// (`custos_upstream_requests_total`: `done`, `refused`, `unavailable`, `failed`) and how long they took
/// (`custos_upstream_request_seconds`).
enum UpstreamMetrics {
    static func measure<T>(
        _ target: UpstreamTarget,
        operation: String,
        _ exchange: () async throws(CAError) -> T
    ) async throws(CAError) -> T {
        let started = ContinuousClock.now
        let dimensions = [("ca", target.ca), ("protocol", target.link.protocolName), ("operation", operation)]
        func record(_ outcome: String) {
            Counter(label: "custos_upstream_requests_total", dimensions: dimensions + [("outcome", outcome)])
                .increment()
            let elapsed = ContinuousClock.now - started
            Timer(label: "custos_upstream_request_seconds", dimensions: dimensions).recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
            )
        }
        do {
            let result = try await exchange()
            record("done")
            return result
        } catch {
            switch error.code {
            case .upstreamRefused: record("refused")
            case .upstreamUnavailable: record("unavailable")
            default: record("failed")
            }
            throw error
        }
    }
}
