import Foundation

/// The certificate overview (`CertificateReports.overview`) for pages shown often, such as the web
/// console's dashboard. Counting reads every certificate record, seconds for a million, so the overview
/// is kept: a reader gets the last one at once, with the time it was counted, and one older than
/// `maxAge` is counted again in the background. Only the very first reader waits for a count.
public actor CertificateCounts {
    private let reports: CertificateReports
    private let horizons: [Int]
    private let maxAge: Duration
    private var latest: (overview: CertificateReports.Overview, at: ContinuousClock.Instant)?
    private var running: Task<CertificateReports.Overview, any Error>?

    /// Counts `horizons` (days ahead) for the expiry figures; recounts once the last count is `maxAge` old.
    public init(reports: CertificateReports, horizons: [Int], maxAge: Duration) {
        self.reports = reports
        self.horizons = horizons
        self.maxAge = maxAge
    }

    /// The latest overview; counted now if there is none yet.
    public func current() async throws -> CertificateReports.Overview {
        if let latest {
            if ContinuousClock.now - latest.at > maxAge { _ = recount() }
            return latest.overview
        }
        return try await recount().value
    }

    /// Counts again now (or joins a count under way) and waits for it: after a change the reader must see.
    public func refreshed() async throws -> CertificateReports.Overview { try await recount().value }

    private func recount() -> Task<CertificateReports.Overview, any Error> {
        if let running { return running }
        let reports = reports
        let horizons = horizons
        let task = Task {
            do {
                let overview = try await reports.overview(horizons: horizons)
                self.keep(overview)
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
