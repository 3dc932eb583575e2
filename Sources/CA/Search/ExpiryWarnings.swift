import Codecs
public import Foundation
import MetadataStore

/// One stage of expiry warnings: from `daysBefore` days before a certificate's notAfter (0: once it has
/// expired) it is due, for example 30 days → its owner, 7 → owner and team lead, 0 → the security team.
public struct ExpiryStage: Sendable, Hashable {
    public var name: String
    public var daysBefore: Int

    public init(name: String, daysBefore: Int) {
        self.name = name
        self.daysBefore = daysBefore
    }
}

/// A certificate that has reached an expiry stage, with its owner from its metadata.
public struct ExpiryWarning: Sendable, Hashable {
    public var ca: String
    /// Hex.
    public var serial: String
    public var subject: String
    /// Nanoseconds since 1970.
    public var notAfter: Int64
    /// The most advanced stage it has reached.
    public var stage: String
    /// The value of the owner metadata key, when the certificate has one.
    public var owner: String?
}

extension CertificateReports {
    /// Every valid (unrevoked) certificate that has reached one of `stages`, with the most advanced stage
    /// it reached and its owner (metadata `ownerKey`), in one pass over every certificate record on a
    /// thread of its own. Certificates that expired more than `expiredForDays` ago are left out (they were
    /// warned about when they expired). Only the warnings are kept in memory, not the records.
    public func expiryWarnings(
        stages: [ExpiryStage],
        ownerKey: String = "owner",
        expiredForDays: Int = 30,
        now: Date = Date()
    ) async throws(CAError) -> (warnings: [ExpiryWarning], scanned: Int) {
        guard !stages.isEmpty, stages.allSatisfy({ (0...3650).contains($0.daysBefore) && !$0.name.isEmpty }) else {
            throw CAError(.invalidInput, "expiry stages need names and days from 0 to 3650")
        }
        let day: Int64 = 86_400_000_000_000
        let nowNanoseconds = Int64(now.timeIntervalSince1970 * 1e9)
        // Most advanced (fewest days) first: the first stage a certificate has reached is the one reported.
        let ordered = stages.sorted { $0.daysBefore < $1.daysBefore }.map {
            (stage: $0, from: $0.daysBefore * Int(day))
        }
        let widest = Int64(ordered.last?.from ?? 0)
        let oldest = nowNanoseconds - Int64(expiredForDays) * day
        do {
            return try await store.scan { reader in
                var warnings: [ExpiryWarning] = []
                var scanned = 0
                var cursor: Key?
                while true {
                    let page = try reader.records(CertificateRecord.self, after: cursor, limit: 10_000)
                    scanned += page.count
                    for record in page where record.status == .valid {
                        let left = record.notAfter - nowNanoseconds
                        guard left <= widest, record.notAfter >= oldest else { continue }
                        guard let reached = ordered.first(where: { left <= Int64($0.from) }) else { continue }
                        warnings.append(
                            ExpiryWarning(
                                ca: record.issuer,
                                serial: Hex.encode(record.serial),
                                subject: record.subject,
                                notAfter: record.notAfter,
                                stage: reached.stage.name,
                                owner: record.metadata[ownerKey]
                            )
                        )
                    }
                    guard page.count == 10_000, let last = page.last else { break }
                    cursor = last.primaryKey
                }
                return (warnings, scanned)
            }
        } catch {
            throw CAError.from(error)
        }
    }
}
