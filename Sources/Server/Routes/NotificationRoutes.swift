import APIModels
import Foundation
import Hummingbird
import MetadataStore
import Notifications

/// `/v1/notification-channels`, `/v1/notification-rules` and `/v1/notifications`: where notifications
/// go, what causes them, and the outbox's delivery state. Administrators and officers change them;
/// auditors read them; a credential limited to a tenant reaches only that tenant's.
struct NotificationRoutes {
    let notifier: Notifier
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.put("v1/notification-channels/:name", use: setChannel)
        group.get("v1/notification-channels", use: channels)
        group.get("v1/notification-channels/:name", use: channel)
        group.delete("v1/notification-channels/:name", use: deleteChannel)
        group.put("v1/notification-rules/:name", use: setRule)
        group.get("v1/notification-rules", use: rules)
        group.get("v1/notification-rules/:name", use: rule)
        group.delete("v1/notification-rules/:name", use: deleteRule)
        group.get("v1/notifications", use: notifications)
        group.get("v1/notifications/:id", use: notification)
        group.post("v1/notifications/:id/retry", use: retry)
    }

    @Sendable func setChannel(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decodeStrict(NotificationChannelBody.self, from: request, limit: maxBodyBytes)
        let name = try context.parameters.require("name")
        if let named = body.name, named != name {
            throw APIError.badRequest("invalid_input", "name \(named) differs from the path's \(name)")
        }
        let channel = try await notifier.setChannel(
            body,
            name: name,
            tenantLimit: context.tenantLimit,
            requester: context.requester
        )
        return try JSONResponse(body: channel).makeResponse()
    }

    @Sendable func channels(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let channels = try await notifier.channels(tenantLimit: context.tenantLimit)
        return try JSONResponse(body: NotificationChannelList(channels: channels)).makeResponse()
    }

    @Sendable func channel(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let name = try context.parameters.require("name")
        return try JSONResponse(body: try await notifier.channel(name, tenantLimit: context.tenantLimit)).makeResponse()
    }

    @Sendable func deleteChannel(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let name = try context.parameters.require("name")
        try await notifier.deleteChannel(name, tenantLimit: context.tenantLimit, requester: context.requester)
        return Response(status: .noContent)
    }

    @Sendable func setRule(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decodeStrict(
            NotificationRuleBody.self,
            from: request,
            limit: maxBodyBytes,
            freeForm: ["report.metadata", "renew.metadata"]
        )
        let name = try context.parameters.require("name")
        if let named = body.name, named != name {
            throw APIError.badRequest("invalid_input", "name \(named) differs from the path's \(name)")
        }
        let rule = try await notifier.setRule(
            body,
            name: name,
            tenantLimit: context.tenantLimit,
            requester: context.requester
        )
        return try JSONResponse(body: rule).makeResponse()
    }

    @Sendable func rules(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let rules = try await notifier.rules(tenantLimit: context.tenantLimit)
        return try JSONResponse(body: NotificationRuleList(rules: rules)).makeResponse()
    }

    @Sendable func rule(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let name = try context.parameters.require("name")
        return try JSONResponse(body: try await notifier.rule(name, tenantLimit: context.tenantLimit)).makeResponse()
    }

    @Sendable func deleteRule(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let name = try context.parameters.require("name")
        try await notifier.deleteRule(name, tenantLimit: context.tenantLimit, requester: context.requester)
        return Response(status: .noContent)
    }

    @Sendable func notifications(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let query = request.uri.queryParameters
        var state: NotificationRecord.State?
        if let text = query.get("state") {
            guard let known = NotificationRecord.State(rawValue: text) else {
                throw APIError.badRequest("invalid_input", "state must be pending, delivered or failed")
            }
            state = known
        }
        let page = try await notifier.notifications(
            tenantLimit: context.tenantLimit,
            state: state,
            rule: query.get("rule"),
            cursor: query.get("cursor"),
            limit: try RouteParameters.limit(request)
        )
        return try JSONResponse(
            body: NotificationPage(notifications: page.notifications.map(Self.view), nextCursor: page.next)
        ).makeResponse()
    }

    @Sendable func notification(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let id = try context.parameters.require("id")
        let record = try await notifier.notification(id, tenantLimit: context.tenantLimit)
        return try JSONResponse(body: Self.view(record)).makeResponse()
    }

    @Sendable func retry(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let id = try context.parameters.require("id")
        let record = try await notifier.retry(id, tenantLimit: context.tenantLimit, requester: context.requester)
        return try JSONResponse(body: Self.view(record)).makeResponse()
    }

    static func view(_ record: NotificationRecord) -> NotificationView {
        func date(_ nanoseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(nanoseconds) / 1e9) }
        return NotificationView(
            id: record.id,
            rule: record.rule,
            channel: record.channel,
            tenant: record.tenant,
            recipient: record.recipient,
            event: record.event,
            subject: record.subject,
            created: date(record.created),
            state: record.state.rawValue,
            attempts: record.attempts,
            nextAttempt: record.state == .pending ? date(record.nextAttempt) : nil,
            lastError: record.lastError,
            delivered: record.delivered.map(date)
        )
    }
}
