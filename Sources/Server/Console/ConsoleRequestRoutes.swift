import CA
import Console
import Enrollment
import Foundation
import Hummingbird
import MetadataStore

/// `/ui/requests`: the approvals queue. Requests that profiles with manual approval hold, by state;
/// administrators and officers approve (the certificate is issued under the profile as it is now) or
/// reject with a reason the client is told; auditors look.
struct ConsoleRequestRoutes {
    let site: ConsoleSite
    let enrollment: EnrollmentService
    static let pageSize = 50

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("requests", use: list)
        group.post("requests/:request/approve", use: approve)
        group.post("requests/:request/reject", use: reject)
        ConsoleRequestForm(site: site, enrollment: enrollment).add(to: group)
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let parameters = request.uri.queryParameters
        let notice =
            parameters.get("approved").map { _ in words["requestApproved"] ?? "" }
            ?? parameters.get("rejected").map { _ in words["requestRejected"] ?? "" }
            ?? parameters.get("submitted").map { _ in words["requestSubmitted"] ?? "" }
        return try await page(request, context, notice: notice, error: nil, status: .ok)
    }

    @Sendable func approve(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        return try await decide(request, context, "approved") { record in
            _ = try await enrollment.approve(record.id, requester: context.requester)
        }
    }

    @Sendable func reject(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let reason = context.console?.form["reason"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (reason ?? "").utf8.count <= 512 else {
            return try await page(
                request,
                context,
                notice: nil,
                error: "a reason has at most 512 characters",
                status: .badRequest
            )
        }
        return try await decide(request, context, "rejected") { record in
            _ = try await enrollment.reject(
                record.id,
                reason: reason?.isEmpty == false ? reason : nil,
                requester: context.requester
            )
        }
    }

    /// Runs a decision on the request named in the path; a refusal (decided already, the policy refuses
    /// it now) shows above the queue and changes nothing.
    private func decide(
        _ request: Request,
        _ context: CustosRequestContext,
        _ outcome: String,
        _ body: (EnrollmentRequestRecord) async throws -> Void
    ) async throws -> Response {
        do {
            let record = try await enrollment.request(try context.parameters.require("request"))
            try await requireTenant(of: record, context)
            try await body(record)
        } catch {
            let apiError = ObservabilityMiddleware.apiError(for: error)
            guard apiError.status.code < 500, apiError.status != .forbidden else { throw error }
            return try await page(request, context, notice: nil, error: apiError.message, status: apiError.status)
        }
        return ConsoleSite.redirect("/ui/requests?\(outcome)=1")
    }

    private func page(
        _ request: Request,
        _ context: CustosRequestContext,
        notice: String?,
        error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let name = request.uri.queryParameters.get("state") ?? "pending"
        guard let state = EnrollmentRequestRecord.State(rawValue: name) else {
            throw APIError.badRequest("invalid_input", "state is pending, issued or rejected, not \"\(name)\"")
        }
        let records = try await enrollment.requests(state: state, after: nil, limit: Self.pageSize * 4)
        var visible: [EnrollmentRequestRecord] = []
        for record in records where visible.count < Self.pageSize {
            if (try? await requireTenant(of: record, context)) != nil { visible.append(record) }
        }
        let role = context.credential?.role
        let canDecide = state == .pending && (role == .admin || role == .officer)
        let rows: [[String: Any]] = visible.map { record in
            var row: [String: Any] = [
                "id": record.id, "profile": record.profile, "protocol": record.protocolName.uppercased(),
                "client": record.client, "created": ConsoleSite.time(nanoseconds: record.created),
                "subject": EnrollmentService.requestedSubject(of: record) ?? "",
                "canDecide": canDecide,
                // Four eyes: an officer's own request is approved by someone else.
                "own": record.client == context.requester.actor,
            ]
            if let decidedBy = record.decidedBy { row["decidedBy"] = decidedBy }
            if let reason = record.reason { row["reason"] = reason }
            if let serial = record.serial { row["serial"] = serial }
            if record.awaitingUpstream { row["awaitingUpstream"] = true }
            return row
        }
        var values: [String: Any] = [
            "requests": rows,
            "hasRequests": !rows.isEmpty,
            "states": EnrollmentRequestRecord.State.allCases.map {
                [
                    "href": "/ui/requests?state=\($0.rawValue)", "label": words["state." + $0.rawValue] ?? $0.rawValue,
                    "current": $0 == state,
                ] as [String: Any]
            },
            "canDecide": canDecide,
            "canRequest": role == .admin || role == .officer,
        ]
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return site.page(
            .requests,
            request,
            context,
            title: "requests",
            current: "requests",
            status: status,
            values: values
        )
    }

    /// A tenant-limited credential sees and decides the requests of its tenant's CAs only.
    private func requireTenant(of record: EnrollmentRequestRecord, _ context: CustosRequestContext) async throws {
        guard context.tenantLimit != nil else { return }
        let profile = try await enrollment.profile(record.profile)
        try await context.requireTenant(try enrollment.authority.authority(profile.ca).record.tenant)
    }
}
