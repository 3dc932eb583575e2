import CA
import Hummingbird

/// `/v1/cas/{ca}/policies/{category}`: a CA's issuance policy for a category, or with `*` the one for
/// every CA.
struct PolicyRoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.put("v1/cas/:ca/policies/:category", use: set)
        group.get("v1/cas/:ca/policies/:category", use: show)
    }

    @Sendable func set(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let category = try RouteParameters.category(try context.parameters.require("category"))
        let policy = try await JSONBody.decode(IssuancePolicy.self, from: request, limit: maxBodyBytes)
        try await authority.setPolicy(
            policy,
            ca: ca == "*" ? nil : ca,
            category: category,
            requester: context.requester
        )
        return try JSONResponse(body: policy).makeResponse()
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let ca = try await context.ca(authority)
        if ca != "*" { _ = try await authority.authority(ca) }
        let category = try RouteParameters.category(try context.parameters.require("category"))
        return try await JSONResponse(body: try authority.policy(ca: ca == "*" ? "" : ca, category: category))
            .makeResponse()
    }
}
