import CA
import Codecs
import Console
import CustosX509
import Foundation
import Hummingbird
import MetadataStore

/// `/ui/certificates`: search with the API's filters, a certificate's details and download, and
/// revocation (administrators and officers).
struct ConsoleCertificateRoutes {
    let site: ConsoleSite
    let authority: CertificateAuthority
    static let pageSize = 50

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("certificates", use: search)
        group.get("cas/:ca/certificates/:serial", use: show)
        group.get("cas/:ca/certificates/:serial/certificate.pem", use: download)
        group.post("cas/:ca/certificates/:serial/revoke", use: revoke)
        ConsoleCertificateActions(site: site, authority: authority, routes: self).add(to: group)
    }

    /// The search form; with any filter given, the first (or `cursor`'s) page of matches.
    @Sendable func search(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        let words = ConsoleText.words(ConsoleSite.language(request))
        let cas = try await authority.list(after: nil, limit: .max, tenant: context.tenantLimit)
        let form = Dictionary(
            ["ca", "status", "q", "category", "serial", "expiresAfter", "expiresBefore", "metadata", "cursor"]
                .compactMap {
                    name in parameters.get(name).map { (name, $0) }
                },
            uniquingKeysWith: { $1 }
        )
        var values: [String: Any] = [
            "form": form,
            "caOptions": cas.map { ["id": $0.id, "selected": $0.id == form["ca"]] as [String: Any] },
            "statusOptions": ["valid", "revoked", "expired"].map {
                ["value": $0, "label": words[$0] ?? $0, "selected": $0 == form["status"]] as [String: Any]
            },
        ]
        if let count = parameters.get("revokedCount").flatMap(Int.init) {
            values["notice"] = ConsolePages.fill(words["bulkDone"] ?? "", ["count": String(count)])
        }
        guard !form.isEmpty else {
            return site.page(
                .certificates,
                request,
                context,
                title: "certificates",
                current: "certificates",
                values: values
            )
        }
        do {
            let query = try Self.query(form)
            if let limit = context.tenantLimit {
                guard let ca = query.ca else {
                    throw APIError.forbidden("this credential is limited to tenant \"\(limit)\": choose one of its CAs")
                }
                try context.requireTenant(try await authority.authority(ca).record.tenant)
            }
            let cursor = try form["cursor"].map { text throws(APIError) in
                guard let key = Key(cursorText: text) else {
                    throw APIError.badRequest("invalid_input", "cursor is not one this console made")
                }
                return key
            }
            let page = try await CertificateSearch(store: authority.store).find(
                query,
                after: cursor,
                limit: Self.pageSize
            )
            let rows: [[String: Any]] = page.records.map { record in
                let status = Self.status(record)
                return [
                    "ca": record.issuer, "serial": Hex.encode(record.serial), "subject": record.subject,
                    "category": record.category, "status": words[status] ?? status, "statusClass": status,
                    "notAfter": ConsoleSite.time(nanoseconds: record.notAfter), "href": Self.href(record),
                ]
            }
            values["searched"] = true
            values["results"] = rows
            values["hasResults"] = !rows.isEmpty
            let filters = form.filter { $0.key != "cursor" }
            values["csvHref"] = "/ui/certificates/report.csv?" + Self.queryString(filters)
            let role = context.credential?.role
            if role == .admin || role == .officer, query.ca != nil {
                values["bulkHref"] = "/ui/certificates/revoke?" + Self.queryString(filters)
            }
            if let next = page.next {
                var items = form.filter { $0.key != "cursor" }
                items["cursor"] = next.cursorText
                values["nextHref"] = "/ui/certificates?" + Self.queryString(items)
            }
            return site.page(
                .certificates,
                request,
                context,
                title: "certificates",
                current: "certificates",
                values: values
            )
        } catch {
            let apiError = ObservabilityMiddleware.apiError(for: error)
            guard apiError.status == .badRequest || apiError.status == .notFound else { throw error }
            values["error"] = apiError.message
            return site.page(
                .certificates,
                request,
                context,
                title: "certificates",
                current: "certificates",
                status: apiError.status,
                values: values
            )
        }
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let record = try await certificate(context)
        let parameters = request.uri.queryParameters
        let words = ConsoleText.words(ConsoleSite.language(request))
        var values: [String: Any] = [:]
        if parameters.get("revoked") != nil {
            values["notice"] = words["revokeDone"]
        } else if parameters.get("metadata") != nil {
            values["notice"] = words["metadataDone"]
        } else if let renewed = parameters.get("renewed"), SerialNumbers.bytes(hex: renewed) != nil {
            values["notice"] = ConsolePages.fill(words["renewDone"] ?? "", ["serial": renewed])
        }
        return try await detail(record, request, context, values: values, status: .ok)
    }

    @Sendable func download(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let record = try await certificate(context)
        return site.download(
            Array((PEM.encode(record.der) + "\n").utf8),
            contentType: "application/x-pem-file",
            filename: "\(Hex.encode(record.serial)).pem"
        )
    }

    /// Revokes with the reason chosen; a refusal shows next to the reason, and nothing is changed.
    @Sendable func revoke(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let record = try await certificate(context)
        let name = context.console?.form["reason"] ?? ""
        do {
            guard let reason = CRLReason(name: name), reason != .removeFromCRL else {
                throw APIError.badRequest("invalid_input", "unknown reason \"\(name)\"; choose one from the list")
            }
            _ = try await authority.revoke(
                ca: record.issuer,
                serial: Hex.encode(record.serial),
                reason: reason,
                requester: context.requester
            )
        } catch {
            let apiError = ObservabilityMiddleware.apiError(for: error)
            guard apiError.status.code < 500 else { throw error }
            return try await detail(
                record,
                request,
                context,
                values: ["error": apiError.message],
                status: apiError.status
            )
        }
        return ConsoleSite.redirect(Self.href(record) + "?revoked=1")
    }

    func certificate(_ context: CustosRequestContext) async throws -> CertificateRecord {
        let ca = try await context.ca(authority)
        return try await authority.certificate(ca: ca, serial: try context.parameters.require("serial"))
    }

    /// The certificate's page as it is stored now; `values` adds notices, errors and what a refused form
    /// held.
    func detail(
        _ record: CertificateRecord,
        _ request: Request,
        _ context: CustosRequestContext,
        values extra: [String: Any],
        status: HTTPResponse.Status
    ) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let current = try await authority.store.read { [record] reader in
            (
                try reader.certificate(issuer: record.issuer, serial: record.serial) ?? record,
                try reader.revocation(issuer: record.issuer, serial: record.serial)
            )
        }
        let (certificate, revocation) = current
        let statusName = Self.status(certificate)
        var details: [String: Any] = [
            "ca": certificate.issuer, "caHref": "/ui/cas/\(ConsoleDashboard.path(certificate.issuer))",
            "serial": Hex.encode(certificate.serial), "subject": certificate.subject, "category": certificate.category,
            "status": words[statusName] ?? statusName, "statusClass": statusName, "href": Self.href(certificate),
            "notBefore": ConsoleSite.time(nanoseconds: certificate.notBefore),
            "notAfter": ConsoleSite.time(nanoseconds: certificate.notAfter),
            "metadata": certificate.metadata.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] },
            "hasMetadata": !certificate.metadata.isEmpty,
        ]
        if let revocation {
            details["revokedAt"] = ConsoleSite.time(nanoseconds: revocation.revokedAt)
            details["reason"] = CRLReason(rawValue: revocation.reason)?.description ?? String(revocation.reason)
        }
        let role = context.credential?.role
        let mayChange = role == .admin || role == .officer
        var values: [String: Any] = [
            "cert": details,
            "canRevoke": mayChange && certificate.status == .valid,
            "canChange": mayChange,
            // A revoked certificate is renewed through a new request, not from itself.
            "canRenew": mayChange && certificate.status == .valid,
            "reasons": CRLReason.allCases.filter { $0 != .removeFromCRL }.map(\.description),
        ]
        values.merge(extra) { $1 }
        return site.page(
            .certificate,
            request,
            context,
            title: "certificates",
            current: "certificates",
            status: status,
            values: values
        )
    }

    /// `valid`, `revoked` or `expired`.
    static func status(_ record: CertificateRecord) -> String {
        record.status == .revoked
            ? "revoked" : record.notAfter < Int64(Date().timeIntervalSince1970 * 1e9) ? "expired" : "valid"
    }

    static func href(_ record: CertificateRecord) -> String {
        "/ui/cas/\(ConsoleDashboard.path(record.issuer))/certificates/\(Hex.encode(record.serial))"
    }

    /// The search conditions of the form: the API's filters, dates as days (UTC), metadata as lines of
    /// `key=value`.
    static func query(_ form: [String: String]) throws(APIError) -> CertificateQuery {
        var query = CertificateQuery()
        func value(_ name: String) -> String? {
            guard let text = form[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        query.ca = value("ca")
        query.text = value("q")
        query.category = value("category")
        if let serial = value("serial") {
            guard let bytes = SerialNumbers.bytes(hex: serial) else {
                throw APIError.badRequest("invalid_input", "the serial number is not hex")
            }
            query.serial = bytes
        }
        let days = DateFormatter()
        days.locale = Locale(identifier: "en_US_POSIX")
        days.timeZone = TimeZone(identifier: "UTC")
        days.dateFormat = "yyyy-MM-dd"
        for name in ["expiresAfter", "expiresBefore"] {
            guard let text = value(name) else { continue }
            guard let date = days.date(from: text) else {
                throw APIError.badRequest("invalid_input", "\(name) is not a date such as 2027-01-31")
            }
            if name == "expiresAfter" { query.expiresAfter = date } else { query.expiresBefore = date }
        }
        try CertificateRoutes.apply(status: value("status"), to: &query)
        for line in (value("metadata") ?? "").split(whereSeparator: \.isNewline) {
            let pair = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, !pair[0].isEmpty else {
                throw APIError.badRequest("invalid_input", "metadata lines are key=value, not \"\(line)\"")
            }
            query.metadata[pair[0]] = pair[1]
        }
        return query
    }

    /// `name=value&…`, percent-encoded, in name order.
    static func queryString(_ items: [String: String]) -> String {
        items.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: ConsoleDashboard.unreserved) ?? "")"
        }.joined(separator: "&")
    }
}
