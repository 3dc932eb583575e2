import AgentX
import CA
import Foundation
import Glibc
import HSM
import MetadataStore
import Notifications

/// CUSTOS-MIB (`docs/CUSTOS-MIB.txt`): the objects the AgentX subagent serves, read when the master
/// agent asks (at most once a second; certificate counts come from the dashboard's kept count).
enum CustosMIB {
    /// 1.3.6.1.4.1.32473.1: enterprise 32473 is the one RFC 5612 reserves for documentation; a
    /// deployment with its own number changes only this.
    static let root: OID = [1, 3, 6, 1, 4, 1, 32473, 1]
    /// custosEventTrap: one notification of an `snmp` channel.
    static let eventTrap: OID = root + [0, 1]
    static let eventName: OID = root + [8, 1, 0]
    static let eventSubject: OID = root + [8, 2, 0]
    static let eventID: OID = root + [8, 3, 0]

    /// Every scalar of the MIB with its current value.
    static func view(
        pool: SessionPool,
        counts: CertificateCounts,
        store: any MetadataBackend,
        started: ContinuousClock.Instant,
        now: Date = Date()
    ) async -> MIBView {
        let statistics = pool.statistics
        let elapsed = ContinuousClock.now - started
        var entries: [VarBind] = [
            VarBind(root + [1, 1, 0], .integer(statistics.sessionsOpen > 0 ? 1 : 2)),
            VarBind(root + [1, 2, 0], .timeTicks(UInt32(truncatingIfNeeded: elapsed.components.seconds * 100))),
            VarBind(root + [1, 3, 0], .string("Custos")),
            VarBind(root + [2, 1, 0], .gauge32(UInt32(clamping: statistics.sessionsOpen))),
            VarBind(root + [2, 2, 0], .gauge32(UInt32(clamping: statistics.inUse))),
            VarBind(root + [2, 3, 0], .gauge32(UInt32(clamping: statistics.waiters))),
            VarBind(root + [2, 4, 0], .counter64(UInt64(clamping: statistics.operations))),
            VarBind(root + [2, 5, 0], .counter64(UInt64(clamping: statistics.failures))),
            VarBind(root + [2, 6, 0], .string(pool.tokenInfo.label)),
        ]
        if let overview = try? await counts.current() {
            func total(_ status: String) -> UInt32 {
                UInt32(clamping: overview.counts.filter { $0.status == status }.reduce(0) { $0 + $1.count })
            }
            let expiring = overview.horizons.firstIndex(of: 30).map { index in
                overview.expiring.values.reduce(0) { $0 + ($1.count > index ? $1[index] : 0) }
            }
            entries += [
                VarBind(root + [3, 1, 0], .gauge32(total("valid"))),
                VarBind(root + [3, 2, 0], .gauge32(total("revoked"))),
                VarBind(root + [3, 3, 0], .gauge32(total("expired"))),
                VarBind(root + [3, 4, 0], .gauge32(UInt32(clamping: expiring ?? 0))),
            ]
        }
        let nanoseconds = Int64(now.timeIntervalSince1970 * 1e9)
        if let (overdue, signerDays) = try? await store.read({ reader in
            let crls = try reader.records(CRLRecord.self, after: nil, limit: .max)
            let signers = try reader.records(OCSPSignerRecord.self, after: nil, limit: .max)
            let soonest = signers.map(\.notAfter).min()
            return (
                // CRL times are seconds since 1970.
                crls.filter { $0.fullNextUpdate < Int64(now.timeIntervalSince1970) }.count,
                soonest.map { Int(($0 - nanoseconds) / 86_400_000_000_000) } ?? -1
            )
        }) {
            entries.append(VarBind(root + [4, 1, 0], .gauge32(UInt32(clamping: overdue))))
            entries.append(VarBind(root + [5, 1, 0], .integer(Int32(clamping: signerDays))))
        }
        let memory = meminfo()
        entries.append(VarBind(root + [6, 1, 0], .gauge32(UInt32(clamping: memory["MemAvailable"] ?? 0))))
        entries.append(VarBind(root + [6, 2, 0], .gauge32(UInt32(clamping: residentKilobytes()))))
        if let directory = store.directory {
            var info = statvfs()
            if statvfs(directory, &info) == 0 {
                let kilobytes = { (blocks: UInt) in UInt32(clamping: UInt64(blocks) * UInt64(info.f_frsize) / 1024) }
                entries.append(VarBind(root + [6, 3, 0], .gauge32(kilobytes(info.f_bavail))))
                entries.append(VarBind(root + [6, 4, 0], .gauge32(kilobytes(info.f_blocks))))
            }
        }
        if let (due, failed) = try? await store.read({ reader in
            (
                try reader.dueNotifications(at: nanoseconds, limit: 100_000).count,
                try reader.failedNotificationCount(limit: 100_000)
            )
        }) {
            entries.append(VarBind(root + [7, 1, 0], .gauge32(UInt32(clamping: due))))
            entries.append(VarBind(root + [7, 2, 0], .gauge32(UInt32(clamping: failed))))
        }
        return MIBView(entries)
    }

    /// /proc/meminfo in kilobytes.
    private static func meminfo() -> [String: Int] {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        var values: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let value = Int(parts[1]) { values[String(parts[0].dropLast())] = value }
        }
        return values
    }

    private static func residentKilobytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
            ?? 0
    }
}
