public import Foundation
public import MetadataStore

/// Reports over the certificate store: what expires soon, and how many certificates each CA has by
/// category and status.
public struct CertificateReports: Sendable {
    public let store: any MetadataBackend

    public init(store: any MetadataBackend) { self.store = store }

    /// Valid (unrevoked) certificates whose notAfter lies between `now` and `days` days later, soonest
    /// first, optionally of one CA.
    public func expiring(withinDays days: Int, ca: String? = nil, now: Date = Date()) async throws(CAError)
        -> [CertificateRecord]
    {
        guard days >= 0 else { throw CAError(.invalidInput, "days must not be negative") }
        let query = CertificateQuery(
            ca: ca,
            status: .valid,
            expiresAfter: now,
            expiresBefore: now.addingTimeInterval(Double(days) * 86_400)
        )
        return try await CertificateSearch(store: store).all(query).sorted { $0.notAfter < $1.notAfter }
    }

    /// One line of the summary.
    public struct Count: Sendable, Hashable, Codable {
        public var ca: String
        public var category: String
        /// `valid`, `revoked` or `expired` (valid but past notAfter).
        public var status: String
        public var count: Int
    }

    /// Certificate counts by CA, category and status.
    public func summary(now: Date = Date()) async throws(CAError) -> [Count] {
        try await overview(horizons: [], now: now).counts
    }

    /// The summary and, per CA, how many valid certificates expire within each horizon: one pass over
    /// every certificate record, off the cooperative pool (a million take seconds).
    public struct Overview: Sendable, Codable, Equatable {
        public var counts: [Count]
        /// Days ahead, ascending.
        public var horizons: [Int]
        /// Per CA: valid (unrevoked, unexpired) certificates whose notAfter lies within `horizons[i]` days.
        public var expiring: [String: [Int]]
        /// When it was counted.
        public var counted: Date
    }

    public func overview(horizons: [Int], now: Date = Date()) async throws(CAError) -> Overview {
        let nowNanoseconds = Int64(now.timeIntervalSince1970 * 1e9)
        let horizons = horizons.sorted()
        let cutoffs = horizons.map { nowNanoseconds + Int64($0) * 86_400_000_000_000 }
        let (counts, expiring): ([Count: Int], [String: [Int]])
        do {
            (counts, expiring) = try await store.scan { reader in
                var counts: [Count: Int] = [:]
                var expiring: [String: [Int]] = [:]
                var cursor: Key?
                while true {
                    let page = try reader.records(CertificateRecord.self, after: cursor, limit: 10_000)
                    for record in page {
                        let expired = record.notAfter < nowNanoseconds
                        let status = record.status == .revoked ? "revoked" : expired ? "expired" : "valid"
                        let category = record.category.isEmpty ? "imported" : record.category
                        counts[Count(ca: record.issuer, category: category, status: status, count: 0), default: 0] += 1
                        if status == "valid", let first = cutoffs.firstIndex(where: { record.notAfter <= $0 }) {
                            var row = expiring[record.issuer] ?? Array(repeating: 0, count: cutoffs.count)
                            for index in first..<cutoffs.count { row[index] += 1 }
                            expiring[record.issuer] = row
                        }
                    }
                    guard page.count == 10_000, let last = page.last else { break }
                    cursor = last.primaryKey
                }
                return (counts, expiring)
            }
        } catch {
            throw CAError.from(error)
        }
        return Overview(
            counts: counts.map {
                Count(ca: $0.key.ca, category: $0.key.category, status: $0.key.status, count: $0.value)
            }
            .sorted { ($0.ca, $0.category, $0.status) < ($1.ca, $1.category, $1.status) },
            horizons: horizons,
            expiring: expiring,
            counted: now
        )
    }
}
