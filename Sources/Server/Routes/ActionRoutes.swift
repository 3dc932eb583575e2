import APIModels
import Hummingbird
import Notifications

/// `/v1/actions`: triggered actions. Administrators and officers define them (auditors read them);
/// `POST /v1/actions/{name}/run` is also open to `trigger` credentials whose patterns name the action.
struct ActionRoutes {
    let actions: TriggeredActions
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.put("v1/actions/:name", use: set)
        group.get("v1/actions", use: list)
        group.get("v1/actions/:name", use: show)
        group.delete("v1/actions/:name", use: delete)
        group.post("v1/actions/:name/run", use: run)
    }

    @Sendable func set(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decodeStrict(
            ActionBody.self,
            from: request,
            limit: maxBodyBytes,
            freeForm: ["revoke.metadata"]
        )
        let name = try context.parameters.require("name")
        if let named = body.name, named != name {
            throw APIError.badRequest("invalid_input", "name \(named) differs from the path's \(name)")
        }
        let action = try await actions.set(
            body,
            name: name,
            tenantLimit: context.tenantLimit,
            requester: context.requester
        )
        return try JSONResponse(body: action).makeResponse()
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        return try JSONResponse(body: ActionList(actions: try await actions.list(tenantLimit: context.tenantLimit)))
            .makeResponse()
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let name = try context.parameters.require("name")
        return try JSONResponse(body: try await actions.action(name, tenantLimit: context.tenantLimit)).makeResponse()
    }

    @Sendable func delete(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let name = try context.parameters.require("name")
        try await actions.delete(name, tenantLimit: context.tenantLimit, requester: context.requester)
        return Response(status: .noContent)
    }

    @Sendable func run(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .trigger)
        let name = try context.parameters.require("name")
        guard context.credential?.permits(action: name) == true else {
            throw APIError.forbidden("this credential may not run the action \"\(name)\"")
        }
        let body = try await JSONBody.decodeStrict(
            RunActionBody.self,
            from: request,
            limit: maxBodyBytes,
            freeForm: ["parameters"]
        )
        let dryRun = body.dryRun ?? false
        let result = try await actions.run(
            name,
            parameters: body.parameters ?? [:],
            dryRun: dryRun,
            tenantLimit: context.tenantLimit,
            requester: context.requester
        )
        return try JSONResponse(
            body: ActionRunView(action: name, matched: result.matched, revoked: result.revoked, dryRun: dryRun)
        ).makeResponse()
    }
}
