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
        let cutoff = Int64(now.timeIntervalSince1970 * 1e9)
        let counts: [Count: Int]
        do {
            counts = try await store.read { reader in
                var counts: [Count: Int] = [:]
                var cursor: Key?
                while true {
                    let page = try reader.records(CertificateRecord.self, after: cursor, limit: 10_000)
                    for record in page {
                        let status =
                            record.status == .revoked ? "revoked" : record.notAfter < cutoff ? "expired" : "valid"
                        let category = record.category.isEmpty ? "imported" : record.category
                        counts[Count(ca: record.issuer, category: category, status: status, count: 0), default: 0] += 1
                    }
                    guard page.count == 10_000, let last = page.last else { break }
                    cursor = last.primaryKey
                }
                return counts
            }
        } catch {
            throw CAError.from(error)
        }
        return counts.map { Count(ca: $0.key.ca, category: $0.key.category, status: $0.key.status, count: $0.value) }
            .sorted { ($0.ca, $0.category, $0.status) < ($1.ca, $1.category, $1.status) }
    }
}
