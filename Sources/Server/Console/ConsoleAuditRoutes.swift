import Console
import Foundation
import Hummingbird
import MetadataStore

/// `/ui/audit` (administrators and auditors): the audit log newest first, filtered by action, actor and
/// text, and the result of walking the whole hash chain.
struct ConsoleAuditRoutes {
    let site: ConsoleSite
    let store: any MetadataBackend
    static let pageSize = 50
    /// Entries read for one page at most: a filter that matches rarely shows what it found in this many
    /// and offers to go on from there, so that no page scans the whole log.
    static let scanLimit: UInt64 = 20_000

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("audit", use: log)
    }

    /// What an entry must match.
    struct Filter: Sendable {
        /// The action, or its start when it ends in `.` (`console.` matches `console.signin`).
        var action: String?
        var actor: String?
        /// Text in the object or the outcome.
        var text: String?

        func matches(_ event: AuditEvent) -> Bool {
            if let action, !(action.hasSuffix(".") ? event.action.hasPrefix(action) : event.action == action) {
                return false
            }
            if let actor, event.actor != actor { return false }
            if let text, !event.object.localizedCaseInsensitiveContains(text),
                !event.outcome.localizedCaseInsensitiveContains(text)
            {
                return false
            }
            return true
        }
    }

    @Sendable func log(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let parameters = request.uri.queryParameters
        func value(_ name: String) -> String? {
            guard let text = parameters.get(name)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                return nil
            }
            return text
        }
        let filter = Filter(action: value("action"), actor: value("actor"), text: value("q"))
        var values: [String: Any] = [
            "form": ["action": filter.action ?? "", "actor": filter.actor ?? "", "q": filter.text ?? ""]
        ]
        var before: UInt64?
        if let text = value("before") {
            guard let sequence = UInt64(text) else {
                values["error"] = "before must be an audit sequence number"
                return site.page(
                    .audit,
                    request,
                    context,
                    title: "audit",
                    current: "audit",
                    status: .badRequest,
                    values: values
                )
            }
            before = sequence
        }
        let (entries, next, scanned) = try await page(before: before, filter: filter)
        values["entries"] = entries.map {
            [
                "sequence": $0.sequence, "time": ConsoleSite.time(nanoseconds: $0.event.time), "actor": $0.event.actor,
                "action": $0.event.action, "object": $0.event.object, "outcome": $0.event.outcome,
                "requestID": $0.event.requestID ?? "",
            ] as [String: Any]
        }
        values["hasEntries"] = !entries.isEmpty
        values["scanned"] = scanned
        if let next {
            var items = ["before": String(next)]
            if let action = filter.action { items["action"] = action }
            if let actor = filter.actor { items["actor"] = actor }
            if let text = filter.text { items["q"] = text }
            values["olderHref"] = "/ui/audit?" + ConsoleCertificateRoutes.queryString(items)
        }
        if parameters.get("verify") != nil {
            let verification = try await store.verifyAudit()
            values["verified"] = true
            values["intact"] = verification.firstBroken == nil
            values["verifiedEntries"] = verification.entries
            if let broken = verification.firstBroken {
                values["brokenAt"] = broken.sequence
                values["brokenReason"] = broken.reason
            }
        }
        return site.page(.audit, request, context, title: "audit", current: "audit", values: values)
    }

    /// Up to a page of matching entries before `before` (or from the newest), newest first; the sequence
    /// to continue before, if the log goes on; how many entries were read.
    private func page(before: UInt64?, filter: Filter) async throws -> ([AuditEntry], UInt64?, UInt64) {
        let limit = Self.pageSize
        let scanLimit = Self.scanLimit
        return try await store.read { reader in
            guard let head = try reader.auditHead() else { return ([], nil, 0) }
            var end = min(before ?? head.sequence + 1, head.sequence + 1)  // exclusive
            var found: [AuditEntry] = []
            var scanned: UInt64 = 0
            while end > 1, found.count < limit, scanned < scanLimit {
                let start = end > 1024 ? end - 1024 : 1
                let chunk = try reader.auditEntries(after: start > 1 ? start - 1 : nil, limit: Int(end - start))
                scanned += UInt64(chunk.count)
                for entry in chunk.reversed() where entry.sequence < end {
                    if filter.matches(entry.event) {
                        found.append(entry)
                        if found.count == limit {
                            end = entry.sequence
                            break
                        }
                    }
                }
                if found.count < limit { end = start }
            }
            return (found, end > 1 ? end : nil, scanned)
        }
    }
}
