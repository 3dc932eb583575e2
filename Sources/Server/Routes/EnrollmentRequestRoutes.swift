import APIModels
import Enrollment
import Hummingbird
import MetadataStore

/// `/v1/enrollment/requests`: requests that profiles with manual approval hold, and officers' decisions.
struct EnrollmentRequestRoutes {
    let enrollment: EnrollmentService
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("v1/enrollment/requests", use: list)
        group.get("v1/enrollment/requests/:request", use: show)
        group.post("v1/enrollment/requests/:request/approve", use: approve)
        group.post("v1/enrollment/requests/:request/reject", use: reject)
    }

    /// `?state=pending` (default), `issued` or `rejected`; `limit`, `after`.
    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let name = request.uri.queryParameters.get("state") ?? "pending"
        guard let state = EnrollmentRequestRecord.State(rawValue: name) else {
            throw APIError.badRequest("invalid_input", "state is pending, issued or rejected, not \"\(name)\"")
        }
        let limit = try RouteParameters.limit(request)
        let page = try await enrollment.requests(
            state: state,
            after: request.uri.queryParameters.get("after"),
            limit: limit
        )
        var visible: [EnrollmentRequestRecord] = []
        for item in page where (try? await requireTenant(of: item, context)) != nil { visible.append(item) }
        return try JSONResponse(
            body: EnrollmentRequestPage(
                requests: visible.map(EnrollmentRequestView.init),
                next: page.count == limit ? page.last?.id : nil
            )
        ).makeResponse()
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let record = try await enrollment.request(try context.parameters.require("request"))
        try await requireTenant(of: record, context)
        return try JSONResponse(body: EnrollmentRequestView(record)).makeResponse()
    }

    @Sendable func approve(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let record = try await enrollment.request(try context.parameters.require("request"))
        try await requireTenant(of: record, context)
        let approved = try await enrollment.approve(record.id, requester: context.requester)
        return try JSONResponse(body: EnrollmentRequestView(approved)).makeResponse()
    }

    @Sendable func reject(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let record = try await enrollment.request(try context.parameters.require("request"))
        try await requireTenant(of: record, context)
        let body =
            request.headers[.contentType] == nil
            ? RejectEnrollmentBody()
            : try await JSONBody.decode(RejectEnrollmentBody.self, from: request, limit: maxBodyBytes)
        let rejected = try await enrollment.reject(record.id, reason: body.reason, requester: context.requester)
        return try JSONResponse(body: EnrollmentRequestView(rejected)).makeResponse()
    }

    /// A tenant-limited credential sees the requests of its tenant's CAs only (a request whose profile
    /// is gone is visible to unlimited credentials only).
    private func requireTenant(of record: EnrollmentRequestRecord, _ context: CustosRequestContext) async throws {
        guard context.tenantLimit != nil else { return }
        let profile = try await enrollment.profile(record.profile)
        try await context.requireTenant(try enrollment.authority.authority(profile.ca).record.tenant)
    }
}
