import CoreMetrics
import Foundation
public import Logging
public import MetadataStore
public import ServiceLifecycle

/// Runs a background job every `interval` on one node at a time: nodes (and processes) sharing a store
/// take turns under a store lease. The holder renews the lease every `term / 3` whatever the job's
/// interval; when it dies, its lease expires after `term` and another node's next check (every
/// `term / 3`) takes the job over, so a job moves within about `term` even when it runs every ten minutes.
///
/// A job must be safe to run twice (a holder that stalls past its term can overlap its successor once);
/// every job here is: CRL numbers are reserved in the store, a checkpoint signs the current head, a
/// re-encryption rechecks each entry in its transaction.
public struct LeasedJobService: Service {
    let lease: StoreLease
    let interval: Duration
    let logger: Logger
    let job: @Sendable () async -> Void

    /// `interval`: between two runs of the job by one holder; the first run comes one interval after
    /// this node took the lease (the node's start already did what the job does).
    public init(
        name: String,
        store: any MetadataBackend,
        interval: Duration,
        term: Duration = .seconds(15),
        logger: Logger,
        job: @escaping @Sendable () async -> Void
    ) {
        self.lease = StoreLease(name: name, term: term, store: store)
        self.interval = interval
        self.logger = logger
        self.job = job
    }

    public func run() async throws {
        let tick = min(interval, lease.term / 3)
        await cancelWhenGracefulShutdown {
            var holding: Bool?
            var renewed: ContinuousClock.Instant?
            var lastRun = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard !Task.isCancelled else { break }
                var held = holding == true && renewed.map { .now - $0 < lease.term / 3 } == true
                if !held {
                    do {
                        held = try await lease.hold()
                        if held { renewed = .now }
                    } catch {
                        logger.warning(
                            "a background job's lease could not be taken",
                            metadata: ["lease": "\(lease.name)", "reason": "\(error)"]
                        )
                        held = false
                    }
                }
                Gauge(label: "custos_background_job_holding", dimensions: [("job", lease.name)]).record(held ? 1 : 0)
                if held != holding {
                    holding = held
                    logger.notice(
                        held ? "this node runs a background job" : "another node runs a background job",
                        metadata: ["lease": "\(lease.name)", "holder": "\(lease.holder)"]
                    )
                }
                if held, ContinuousClock.now - lastRun >= interval {
                    lastRun = .now
                    await job()
                    // Health: when the job last ran here and how long it took.
                    let dimensions = [("job", lease.name)]
                    Gauge(label: "custos_background_job_last_run_timestamp_seconds", dimensions: dimensions)
                        .record(Date().timeIntervalSince1970)
                    Gauge(label: "custos_background_job_duration_seconds", dimensions: dimensions)
                        .record(
                            Double((ContinuousClock.now - lastRun).components.seconds)
                                + Double((ContinuousClock.now - lastRun).components.attoseconds) / 1e18
                        )
                }
            }
        }
        // So that another node takes over at its next check rather than after the term.
        try? await lease.release()
    }
}
