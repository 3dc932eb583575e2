import APIModels
import Enrollment
import Hummingbird
import MetadataStore

/// `/v1/enrollment/profiles/{profile}/acme/accounts`: a profile's ACME accounts and their orders, and
/// deactivation by an officer.
struct ACMEAccountRoutes {
    let acme: ACMEService

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("v1/enrollment/profiles/:profile/acme/accounts", use: list)
        group.get("v1/enrollment/profiles/:profile/acme/accounts/:account/orders", use: orders)
        group.post("v1/enrollment/profiles/:profile/acme/accounts/:account/deactivate", use: deactivate)
        group.post("v1/enrollment/profiles/:profile/acme/external-keys", use: createExternalKey)
        group.get("v1/enrollment/profiles/:profile/acme/external-keys", use: externalKeys)
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let profile = try await ownProfile(context)
        let limit = try RouteParameters.limit(request)
        let page = try await acme.accounts(
            profile: profile,
            after: request.uri.queryParameters.get("after"),
            limit: limit
        )
        return try JSONResponse(
            body: ACMEAccountPage(
                accounts: page.map(ACMEAccountView.init),
                next: page.count == limit ? page.last?.id : nil
            )
        ).makeResponse()
    }

    @Sendable func orders(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let profile = try await ownProfile(context)
        let orders = try await acme.orders(
            account: try context.parameters.require("account"),
            profile: profile,
            limit: 1000
        )
        return try JSONResponse(body: ACMEOrderList(orders: orders.map(ACMEOrderView.init))).makeResponse()
    }

    @Sendable func deactivate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let profile = try await ownProfile(context)
        let account = try await acme.deactivate(
            account: try context.parameters.require("account"),
            profile: profile,
            requester: context.requester
        )
        return try JSONResponse(body: ACMEAccountView(account)).makeResponse()
    }

    /// A new external account binding key, its value in this answer only.
    @Sendable func createExternalKey(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let profile = try await ownProfile(context)
        let body =
            request.headers[.contentType] == nil
            ? ACMEExternalKeyBody()
            : try await JSONBody.decode(ACMEExternalKeyBody.self, from: request, limit: 4096)
        let made = try await acme.createExternalKey(profile: profile, label: body.label, requester: context.requester)
        return try JSONResponse(status: .created, body: ACMEExternalKeyView(made.record, hmacKey: made.key))
            .makeResponse()
    }

    @Sendable func externalKeys(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let keys = try await acme.externalKeys(profile: try ownProfile(context))
        return try JSONResponse(body: ACMEExternalKeyList(keys: keys.map { ACMEExternalKeyView($0) })).makeResponse()
    }

    /// The path's profile, once the credential may act on its CA's tenant.
    private func ownProfile(_ context: CustosRequestContext) async throws -> String {
        let profile = try await acme.enrollment.profile(try context.parameters.require("profile"))
        if context.tenantLimit != nil {
            try await context.requireTenant(try acme.enrollment.authority.authority(profile.ca).record.tenant)
        }
        return profile.id
    }
}
