import CA
import Console
import Foundation
import HSM
import MetadataStore

/// What the dashboard shows a credential: certificates expiring within 7, 30 and 90 days (a chart and a
/// table), counts by CA, category and status, each CA's CRL and when it is due, the HSM session pool,
/// and (for administrators and auditors) the latest audit events. A tenant's credential sees its tenant's
/// CAs only.
struct ConsoleDashboard {
    let authority: CertificateAuthority
    let pool: SessionPool
    /// Kept and counted again in the background (`CustosAPI.dashboardCounts`).
    let counts: CertificateCounts

    /// Days ahead of the expiry figures.
    static let horizons = [7, 30, 90]

    func values(for credential: CredentialRecord?, language: ConsoleLanguage) async throws -> [String: Any] {
        let words = ConsoleText.words(language)
        let now = Date()
        let cas = try await authority.list(after: nil, limit: .max, tenant: credential?.tenant)
        let visible = Set(cas.map(\.id))
        let overview = try await counts.current()

        var totals = Array(repeating: 0, count: overview.horizons.count)
        for (ca, row) in overview.expiring where visible.contains(ca) {
            for index in row.indices { totals[index] += row[index] }
        }
        let largest = max(1, totals.max() ?? 1)
        let expiring: [[String: Any]] = zip(overview.horizons, totals).enumerated().map { index, entry in
            let width = entry.1 == 0 ? 0 : max(2, entry.1 * 200 / largest)
            return [
                "label": ConsolePages.fill(words["withinDays"] ?? "", ["days": String(entry.0)]),
                "count": entry.1,
                "width": width,
                "barY": index * 30 + 2,
                "textY": index * 30 + 17,
                "valueX": 176 + width,
                "days": entry.0,
            ]
        }

        let countRows: [[String: Any]] = overview.counts.filter { visible.contains($0.ca) }.map {
            [
                "ca": $0.ca, "caHref": "/ui/cas/\(Self.path($0.ca))", "category": $0.category,
                "status": words[$0.status] ?? $0.status, "statusClass": $0.status, "count": $0.count,
            ]
        }

        var crls: [[String: Any]] = []
        for ca in cas where ca.record.kind != .trustAnchor && ca.record.kind != .upstream && ca.certificate != nil {
            let scope = try await authority.currentCRLScope(ca.id)
            let stored = try await authority.store.read { try $0.crl(scope: scope) }
            var row: [String: Any] = ["ca": ca.id, "number": "–", "nextUpdate": words["noCRL"] ?? ""]
            if let stored {
                let next = Date(timeIntervalSince1970: Double(stored.fullNextUpdate))
                row["number"] = String(stored.number)
                row["nextUpdate"] = ConsoleSite.time(next)
                row["overdue"] = next < now
            }
            crls.append(row)
        }

        let statistics = pool.statistics
        var values: [String: Any] = [
            "expiring": expiring,
            // A tenant's credential reports one CA at a time (the API's rule), from the search page.
            "expiringReports": credential?.tenant == nil,
            "chartHeight": overview.horizons.count * 30,
            "counted": ConsoleSite.time(overview.counted),
            "counts": countRows,
            "hasCounts": !countRows.isEmpty,
            "crls": crls,
            "hsm": [
                "token": pool.tokenInfo.label, "sessionsOpen": statistics.sessionsOpen, "inUse": statistics.inUse,
                "waiters": statistics.waiters, "failures": statistics.failures,
            ] as [String: Any],
        ]
        if let role = credential?.role, role == .admin || role == .auditor {
            values["showAudit"] = true
            values["audit"] = try await recentAudit(10)
        }
        return values
    }

    /// The newest `count` audit entries, newest first.
    private func recentAudit(_ count: Int) async throws -> [[String: Any]] {
        let entries = try await authority.store.read { reader -> [AuditEntry] in
            guard let head = try reader.auditHead() else { return [] }
            let after = head.sequence > UInt64(count) ? head.sequence - UInt64(count) : nil
            return try reader.auditEntries(after: after, limit: count)
        }
        return entries.reversed().map {
            [
                "sequence": $0.sequence, "time": ConsoleSite.time(nanoseconds: $0.event.time), "actor": $0.event.actor,
                "action": $0.event.action, "object": $0.event.object, "outcome": $0.event.outcome,
            ]
        }
    }

    /// A CA name as one path segment.
    static func path(_ id: String) -> String { id.addingPercentEncoding(withAllowedCharacters: unreserved) ?? id }

    /// RFC 3986's unreserved characters: what a path segment needs no escape for.
    static let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
}
