import Foundation
import MetadataStore

/// The certificate overview (`CertificateReports.overview`) for pages shown often, such as the web
/// console's dashboard. Counting reads every certificate record, seconds for a million, so the overview
/// is kept: a reader gets the last one at once, with the time it was counted, and one older than
/// `maxAge` is counted again in the background. Each count is also kept in the store under `name`, so
/// that after a start (or on another node) the first reader gets the last count and a recount starts,
/// rather than waiting for one; only a store that never had a count makes its first reader wait.
public actor CertificateCounts {
    private let reports: CertificateReports
    private let horizons: [Int]
    private let maxAge: Duration
    private let name: String
    private let freshWithin: Duration
    private var latest: (overview: CertificateReports.Overview, at: ContinuousClock.Instant)?
    private var running: Task<CertificateReports.Overview, any Error>?

    /// Counts `horizons` (days ahead) for the expiry figures; recounts once the last count is `maxAge` old.
    /// After a start, a count that finishes within `freshWithin` is shown rather than the kept one.
    public init(
        reports: CertificateReports,
        horizons: [Int],
        maxAge: Duration,
        name: String = "dashboard",
        freshWithin: Duration = .milliseconds(100)
    ) {
        self.reports = reports
        self.horizons = horizons.sorted()
        self.maxAge = maxAge
        self.name = name
        self.freshWithin = freshWithin
    }

    /// The latest overview: this process's last count, else the one kept in the store (recounted in the
    /// background), else counted now.
    public func current() async throws -> CertificateReports.Overview {
        if let latest {
            if ContinuousClock.now - latest.at > maxAge { _ = recount() }
            return latest.overview
        }
        if let kept = await keptOverview() {
            // A small store counts in milliseconds: its reader waits that long for fresh figures; a
            // large one is shown the kept count, with its time, while the count goes on.
            _ = recount()
            // The count keeps its result in `latest` when it ends (this actor is free while sleeping).
            let deadline = ContinuousClock.now + freshWithin
            while ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
                if let latest { return latest.overview }
            }
            return kept
        }
        return try await recount().value
    }

    /// The overview kept in the store, if it counted the same horizons.
    private func keptOverview() async -> CertificateReports.Overview? {
        guard let record = try? await reports.store.read({ [name] in try $0.reportSnapshot(name: name) }),
            let overview = try? JSONDecoder().decode(CertificateReports.Overview.self, from: Data(record.document)),
            overview.horizons == horizons
        else { return nil }
        return overview
    }

    /// Counts again now (or joins a count under way) and waits for it: after a change the reader must see.
    public func refreshed() async throws -> CertificateReports.Overview { try await recount().value }

    private func recount() -> Task<CertificateReports.Overview, any Error> {
        if let running { return running }
        let reports = reports
        let horizons = horizons
        let name = name
        let task = Task {
            do {
                let overview = try await reports.overview(horizons: horizons)
                self.keep(overview)
                // For the next start; a failure to keep it costs only that start a wait.
                if let document = try? JSONEncoder().encode(overview) {
                    let record = ReportSnapshotRecord(
                        name: name,
                        counted: Int64(overview.counted.timeIntervalSince1970 * 1e9),
                        document: Array(document)
                    )
                    _ = try? await reports.store.write { try $0.save(record) }
                }
                return overview
            } catch {
                self.keep(nil)
                throw error
            }
        }
        running = task
        return task
    }

    private func keep(_ overview: CertificateReports.Overview?) {
        if let overview { latest = (overview, .now) }
        running = nil
    }
}
