import APIModels
import CA
import Codecs
import CustosX509
import Foundation
import Hummingbird
import MetadataStore
import Signing

/// `/v1/certificates` (search), metadata updates, and `/v1/reports`.
struct CertificateRoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("v1/certificates", use: search)
        group.patch("v1/cas/:ca/certificates/:serial/metadata", use: updateMetadata)
        group.get("v1/reports/expiring", use: expiring)
        group.get("v1/reports/summary", use: summary)
    }

    /// Certificates matching the query, a page at a time, as JSON or CSV.
    @Sendable func search(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let parameters = request.uri.queryParameters
        let query = try Self.query(request)
        try await requireTenant(context, ca: query.ca)
        let limit = try RouteParameters.limit(request)
        let cursor = try parameters.get("cursor").map { text throws(APIError) in
            guard let key = Key(cursorText: text) else {
                throw APIError.badRequest("invalid_input", "cursor is not one this API returned")
            }
            return key
        }
        let page = try await CertificateSearch(store: authority.store).find(query, after: cursor, limit: limit)
        if parameters.get("format") == "csv" { return Self.csv(page.records) }
        return try JSONResponse(
            body: CertificatePage(
                certificates: page.records.map { CertificateAnswer($0, chain: nil).model },
                nextCursor: page.next?.cursorText
            )
        ).makeResponse()
    }

    /// Sets (or, with null, removes) metadata pairs of a certificate.
    @Sendable func updateMetadata(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(CertificateMetadataBody.self, from: request, limit: maxBodyBytes)
        let record = try await authority.updateMetadata(
            ca: try context.ca(authority),
            serial: try context.parameters.require("serial"),
            changes: body.metadata,
            requester: context.requester
        )
        return CertificateAnswer(record, chain: nil).response()
    }

    /// Certificates that expire within `days` (30 when absent), soonest first.
    @Sendable func expiring(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        guard let days = Int(request.uri.queryParameters.get("days") ?? "30"), (0...36_500).contains(days) else {
            throw APIError.badRequest("invalid_input", "days must be an integer from 0 to 36500")
        }
        try await requireTenant(context, ca: request.uri.queryParameters.get("ca"))
        let records = try await CertificateReports(store: authority.store)
            .expiring(withinDays: days, ca: request.uri.queryParameters.get("ca"))
        if request.uri.queryParameters.get("format") == "csv" { return Self.csv(records) }
        return try JSONResponse(
            body: CertificateExpiringAnswer(
                days: days,
                certificates: records.map { CertificateAnswer($0, chain: nil).model }
            )
        ).makeResponse()
    }

    /// Certificate counts by CA, category and status (a tenant's CAs only, for a tenant credential).
    @Sendable func summary(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        var counts = try await CertificateReports(store: authority.store).summary()
        if let limit = context.tenantLimit {
            let mine = await Set(try authority.list(after: nil, limit: .max, tenant: limit).map(\.id))
            counts.removeAll { !mine.contains($0.ca) }
        }
        return try JSONResponse(
            body: CertificateSummaryAnswer(
                counts: counts.map { ReportCount(ca: $0.ca, category: $0.category, status: $0.status, count: $0.count) }
            )
        ).makeResponse()
    }

    /// A credential limited to a tenant searches and reports one CA of its tenant at a time.
    func requireTenant(_ context: CustosRequestContext, ca: String?) async throws {
        try await Self.requireTenant(context, ca: ca, authority: authority)
    }

    /// A credential limited to a tenant names one CA of its tenant (the console's reports too).
    static func requireTenant(_ context: CustosRequestContext, ca: String?, authority: CertificateAuthority)
        async throws
    {
        guard let limit = context.tenantLimit else { return }
        guard let ca else {
            throw APIError.forbidden("this credential is limited to tenant \"\(limit)\": name one of its CAs with ca=")
        }
        try await context.requireTenant(try authority.authority(ca).record.tenant)
    }

    /// The search conditions of `GET /v1/certificates`: `ca`, `status` (valid, revoked, expired),
    /// `serial`, `q`, `category`, `expiresAfter`, `expiresBefore` (RFC 3339), `metadata.KEY=VALUE`.
    static func query(_ request: Request) throws(APIError) -> CertificateQuery {
        let parameters = request.uri.queryParameters
        var query = CertificateQuery()
        query.ca = parameters.get("ca")
        query.text = parameters.get("q")
        query.category = parameters.get("category")
        if let serial = parameters.get("serial") {
            guard let bytes = SerialNumbers.bytes(hex: serial) else {
                throw APIError.badRequest("invalid_input", "serial is not hex")
            }
            query.serial = bytes
        }
        let dates = ISO8601DateFormatter()
        for (name, apply) in [
            ("expiresAfter", { (date: Date, query: inout CertificateQuery) in query.expiresAfter = date }),
            ("expiresBefore", { (date: Date, query: inout CertificateQuery) in query.expiresBefore = date }),
        ] {
            guard let text = parameters.get(name) else { continue }
            guard let date = dates.date(from: text) else {
                throw APIError.badRequest(
                    "invalid_input",
                    "\(name) is not an RFC 3339 time such as 2027-01-31T00:00:00Z"
                )
            }
            apply(date, &query)
        }
        try apply(status: parameters.get("status"), to: &query)
        query.metadata = RouteParameters.metadata(request)
        return query
    }

    /// A `status` filter (valid, revoked, expired) as the query's status and expiry bounds: expiry is read
    /// from notAfter, so valid and expired are both unrevoked and differ in their window.
    static func apply(status name: String?, to query: inout CertificateQuery) throws(APIError) {
        switch name {
        case nil: break
        case "valid":
            query.status = .valid
            query.expiresAfter = max(query.expiresAfter ?? .distantPast, Date())
        case "revoked": query.status = .revoked
        case "expired":
            query.status = .valid
            query.expiresBefore = min(query.expiresBefore ?? .distantFuture, Date())
        case let other?:
            throw APIError.badRequest("invalid_input", "status \"\(other)\" is not valid, revoked or expired")
        }
    }

    static func csv(_ records: [CertificateRecord]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: CertificateCSV.render(records)))
        )
    }
}
