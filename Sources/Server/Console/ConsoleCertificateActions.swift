import CA
import Codecs
import Console
import CustosX509
import Foundation
import Hummingbird
import MetadataStore

/// What officers do to certificates beyond one revocation: renew one, set its metadata, revoke every
/// match of a search after a preview, and take a search or the expiring certificates away as CSV.
struct ConsoleCertificateActions {
    let site: ConsoleSite
    let authority: CertificateAuthority
    let routes: ConsoleCertificateRoutes
    /// The rows a bulk revocation's preview lists; the rest are counted.
    static let previewRows = 20
    /// At most this many rows in one CSV download (the API's reports page through more).
    static let reportRows = 100_000

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("cas/:ca/certificates/:serial/renew", use: renew)
        group.post("cas/:ca/certificates/:serial/metadata", use: setMetadata)
        group.get("certificates/revoke", use: preview)
        group.post("certificates/revoke", use: revokeAll)
        group.get("certificates/report.csv", use: report)
        group.get("reports/expiring.csv", use: expiring)
    }

    /// Renews with the same subject and key under the policy in force; shows the new certificate.
    @Sendable func renew(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let record = try await routes.certificate(context)
        let form = context.console?.form ?? [:]
        let days = form["validityDays"]?.trimmingCharacters(in: .whitespaces) ?? ""
        do {
            var validity: Int?
            if !days.isEmpty {
                guard let value = Int(days), value > 0 else {
                    throw APIError.badRequest("invalid_input", "the validity is a whole number of days above 0")
                }
                validity = value
            }
            let renewed = try await authority.renewCertificate(
                ca: record.issuer,
                serial: Hex.encode(record.serial),
                csr: nil,
                validityDays: validity,
                requester: context.requester
            )
            return ConsoleSite.redirect(
                ConsoleCertificateRoutes.href(renewed.record) + "?renewed=\(Hex.encode(record.serial))"
            )
        } catch {
            let apiError = try Self.refusal(error)
            return try await routes.detail(
                record,
                request,
                context,
                values: ["renewError": apiError.message, "renewForm": ["validityDays": days]],
                status: apiError.status
            )
        }
    }

    /// Sets one metadata key, or removes it when the value is empty.
    @Sendable func setMetadata(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let record = try await routes.certificate(context)
        let form = context.console?.form ?? [:]
        let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
        let value = form["value"] ?? ""
        do {
            guard !key.isEmpty else { throw APIError.badRequest("invalid_input", "the key is empty") }
            _ = try await authority.updateMetadata(
                ca: record.issuer,
                serial: Hex.encode(record.serial),
                changes: [key: value.isEmpty ? nil : value],
                requester: context.requester
            )
            return ConsoleSite.redirect(ConsoleCertificateRoutes.href(record) + "?metadata=1")
        } catch {
            let apiError = try Self.refusal(error)
            return try await routes.detail(
                record,
                request,
                context,
                values: ["metadataError": apiError.message, "metadataForm": ["key": key, "value": value]],
                status: apiError.status
            )
        }
    }

    /// How many valid certificates a bulk revocation with the search's conditions would revoke, the first
    /// of them, and the form that revokes exactly that many.
    @Sendable func preview(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let form = Self.filters(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        return try await previewPage(request, context, form: form, error: nil, status: .ok)
    }

    /// Revokes the matches of the previewed conditions, provided as many match as the preview showed.
    @Sendable func revokeAll(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let posted = context.console?.form ?? [:]
        let form = Self.filters(posted.map { ($0.key, $0.value) })
        do {
            let (ca, query) = try await bulkQuery(
                form,
                context,
                words: ConsoleText.words(ConsoleSite.language(request))
            )
            let reasonName = posted["reason"] ?? ""
            guard let reason = CRLReason(name: reasonName), reason != .removeFromCRL else {
                throw APIError.badRequest("invalid_input", "unknown reason \"\(reasonName)\"; choose one from the list")
            }
            guard let expected = posted["expected"].flatMap(Int.init) else {
                throw APIError.badRequest("invalid_input", "the form lacks the previewed count; preview again")
            }
            let revoked = try await authority.revokeAll(
                ca: ca,
                matching: query,
                reason: reason,
                expected: expected,
                requester: context.requester
            )
            var back = form.filter { $0.key != "status" }
            back["revokedCount"] = String(revoked.count)
            back["status"] = "revoked"
            return ConsoleSite.redirect("/ui/certificates?" + ConsoleCertificateRoutes.queryString(back))
        } catch {
            let apiError = try Self.refusal(error)
            return try await previewPage(request, context, form: form, error: apiError.message, status: apiError.status)
        }
    }

    /// Every match of the search's conditions (up to `reportRows`) as CSV.
    @Sendable func report(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let form = Self.filters(request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        let query = try ConsoleCertificateRoutes.query(form)
        try await CertificateRoutes.requireTenant(context, ca: query.ca, authority: authority)
        let records = try await CertificateSearch(store: authority.store).all(query, limit: Self.reportRows)
        return site.download(
            Array(CertificateCSV.render(records).utf8),
            contentType: "text/csv",
            filename: "certificates.csv"
        )
    }

    /// The valid certificates that expire within `days` (7, 30 or 90 on the dashboard) as CSV.
    @Sendable func expiring(_ request: Request, context: CustosRequestContext) async throws -> Response {
        guard let days = Int(request.uri.queryParameters.get("days") ?? "30"), (0...36_500).contains(days) else {
            throw APIError.badRequest("invalid_input", "days must be an integer from 0 to 36500")
        }
        let ca = request.uri.queryParameters.get("ca").flatMap { $0.isEmpty ? nil : $0 }
        try await CertificateRoutes.requireTenant(context, ca: ca, authority: authority)
        let records = try await CertificateReports(store: authority.store).expiring(withinDays: days, ca: ca)
        return site.download(
            Array(CertificateCSV.render(records).utf8),
            contentType: "text/csv",
            filename: "expiring-\(days)-days.csv"
        )
    }

    private func previewPage(
        _ request: Request,
        _ context: CustosRequestContext,
        form: [String: String],
        error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        var values: [String: Any] = [
            "form": form,
            "conditions": [
                "q": "text", "category": "category", "serial": "serial", "expiresAfter": "expiresAfter",
                "expiresBefore": "expiresBefore", "metadata": "metadata",
            ]
            .sorted { $0.key < $1.key }
            .compactMap { name, label in
                form[name].map { ["label": words[label] ?? label, "value": $0] }
            },
            "backHref": "/ui/certificates?" + ConsoleCertificateRoutes.queryString(form),
            "reasons": CRLReason.allCases.filter { $0 != .removeFromCRL }.map(\.description),
        ]
        if let error { values["error"] = error }
        do {
            let (ca, query) = try await bulkQuery(form, context, words: words)
            let matches = try await authority.bulkRevocationMatches(ca: ca, matching: query)
            let count = String(matches.count)
            values["previewed"] = true
            values["count"] = matches.count
            values["matchText"] = ConsolePages.fill(words["bulkMatches"] ?? "", ["count": count])
            values["confirmText"] = ConsolePages.fill(words["bulkConfirm"] ?? "", ["count": count])
            values["hasSample"] = !matches.isEmpty
            values["sample"] = matches.prefix(Self.previewRows).map { record in
                [
                    "serial": Hex.encode(record.serial), "subject": record.subject,
                    "href": ConsoleCertificateRoutes.href(record),
                    "notAfter": ConsoleSite.time(nanoseconds: record.notAfter),
                ]
            }
            if matches.count > Self.previewRows {
                values["more"] = ConsolePages.fill(
                    words["bulkMore"] ?? "",
                    ["more": String(matches.count - Self.previewRows)]
                )
            }
            values["hidden"] = form.filter { $0.key != "status" }.sorted { $0.key < $1.key }
                .map { ["name": $0.key, "value": $0.value] }
        } catch {
            let apiError = try Self.refusal(error)
            values["error"] = apiError.message
            return bulkPage(request, context, values: values, status: apiError.status)
        }
        return bulkPage(request, context, values: values, status: status)
    }

    private func bulkPage(
        _ request: Request,
        _ context: CustosRequestContext,
        values: [String: Any],
        status: HTTPResponse.Status
    ) -> Response {
        site.page(
            .bulkRevoke,
            request,
            context,
            title: "bulkRevokeTitle",
            current: "certificates",
            status: status,
            values: values
        )
    }

    /// The CA and conditions of a bulk revocation, refused unless the credential may use that CA.
    private func bulkQuery(_ form: [String: String], _ context: CustosRequestContext, words: [String: String])
        async throws -> (String, CertificateQuery)
    {
        let query = try ConsoleCertificateRoutes.query(form)
        guard let ca = query.ca else { throw APIError.badRequest("invalid_input", words["bulkNeedsCA"] ?? "") }
        try context.requireTenant(try await authority.authority(ca).record.tenant)
        return (ca, query)
    }

    /// The search conditions among posted or queried fields (empty ones dropped).
    static func filters(_ fields: [(String, String)]) -> [String: String] {
        let names: Set = ["ca", "status", "q", "category", "serial", "expiresAfter", "expiresBefore", "metadata"]
        return Dictionary(
            fields.filter { names.contains($0.0) && !$0.1.trimmingCharacters(in: .whitespaces).isEmpty },
            uniquingKeysWith: { $1 }
        )
    }

    /// The API error of a refusal the page shows next to its form; a server fault is thrown on.
    static func refusal(_ error: any Error) throws -> APIError {
        let apiError = ObservabilityMiddleware.apiError(for: error)
        guard apiError.status.code < 500 else { throw error }
        return apiError
    }
}
