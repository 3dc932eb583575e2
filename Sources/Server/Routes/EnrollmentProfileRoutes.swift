import APIModels
import CA
import Enrollment
import Hummingbird
import MetadataStore

/// `/v1/enrollment/profiles`: profiles (admins and officers; auditors read), their shared password and
/// one-time passwords. A credential limited to a tenant reaches the profiles of its tenant's CAs.
struct EnrollmentProfileRoutes {
    let enrollment: EnrollmentService
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/enrollment/profiles", use: create)
        group.get("v1/enrollment/profiles", use: list)
        group.get("v1/enrollment/profiles/:profile", use: show)
        group.put("v1/enrollment/profiles/:profile", use: replace)
        group.delete("v1/enrollment/profiles/:profile", use: delete)
        group.post("v1/enrollment/profiles/:profile/password", use: rotatePassword)
        group.post("v1/enrollment/profiles/:profile/one-time-passwords", use: createOneTimePassword)
        group.get("v1/enrollment/profiles/:profile/one-time-passwords", use: listOneTimePasswords)
        group.delete("v1/enrollment/profiles/:profile/one-time-passwords/:secret", use: deleteOneTimePassword)
    }

    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let body = try await JSONBody.decode(EnrollmentProfileBody.self, from: request, limit: maxBodyBytes)
        guard let id = body.id else { throw APIError.badRequest("invalid_input", "id: the profile needs a name") }
        let profile = try Self.profile(body, id: id)
        try await requireTenant(of: profile, context)
        let saved = try await enrollment.save(profile, replacing: false, requester: context.requester)
        return try JSONResponse(status: .created, body: EnrollmentProfileView(saved)).makeResponse()
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let limit = try RouteParameters.limit(request)
        let after = request.uri.queryParameters.get("after")
        let page = try await enrollment.profiles(after: after, limit: limit)
        var visible: [EnrollmentProfile] = []
        for item in page where (try? await requireTenant(of: item, context)) != nil { visible.append(item) }
        return try JSONResponse(
            body: EnrollmentProfilePage(
                profiles: visible.map(EnrollmentProfileView.init),
                next: page.count == limit ? page.last?.id : nil
            )
        ).makeResponse()
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let profile = try await ownProfile(context)
        return try JSONResponse(body: EnrollmentProfileView(profile)).makeResponse()
    }

    @Sendable func replace(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        _ = try await ownProfile(context)
        let body = try await JSONBody.decode(EnrollmentProfileBody.self, from: request, limit: maxBodyBytes)
        let id = try context.parameters.require("profile")
        if let named = body.id, named != id {
            throw APIError.badRequest("invalid_input", "id \"\(named)\" differs from the path's \"\(id)\"")
        }
        let profile = try Self.profile(body, id: id)
        try await requireTenant(of: profile, context)
        let saved = try await enrollment.save(profile, replacing: true, requester: context.requester)
        return try JSONResponse(body: EnrollmentProfileView(saved)).makeResponse()
    }

    @Sendable func delete(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let profile = try await ownProfile(context)
        try await enrollment.delete(profile.id, requester: context.requester)
        return Response(status: .noContent)
    }

    @Sendable func rotatePassword(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let profile = try await ownProfile(context)
        let made = try await enrollment.rotateSharedPassword(profile: profile.id, requester: context.requester)
        return try JSONResponse(status: .created, body: EnrollmentSecretView(made.record, secret: made.secret))
            .makeResponse()
    }

    @Sendable func createOneTimePassword(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let profile = try await ownProfile(context)
        // A body is optional: without one, the defaults.
        let body =
            request.headers[.contentType] == nil
            ? OneTimePasswordBody()
            : try await JSONBody.decode(OneTimePasswordBody.self, from: request, limit: maxBodyBytes)
        let made = try await enrollment.createOneTimePassword(
            profile: profile.id,
            label: body.label,
            validHours: body.validHours ?? 72,
            requester: context.requester
        )
        return try JSONResponse(status: .created, body: EnrollmentSecretView(made.record, secret: made.secret))
            .makeResponse()
    }

    @Sendable func listOneTimePasswords(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let profile = try await ownProfile(context)
        let secrets = try await enrollment.oneTimePasswords(profile: profile.id)
        return try JSONResponse(body: EnrollmentSecretList(secrets: secrets.map { EnrollmentSecretView($0) }))
            .makeResponse()
    }

    @Sendable func deleteOneTimePassword(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let profile = try await ownProfile(context)
        try await enrollment.deleteSecret(
            profile: profile.id,
            secret: try context.parameters.require("secret"),
            requester: context.requester
        )
        return Response(status: .noContent)
    }

    /// The path's profile, once the credential may act on its CA's tenant.
    private func ownProfile(_ context: CustosRequestContext) async throws -> EnrollmentProfile {
        let profile = try await enrollment.profile(try context.parameters.require("profile"))
        try await requireTenant(of: profile, context)
        return profile
    }

    func requireTenant(of profile: EnrollmentProfile, _ context: CustosRequestContext) async throws {
        try await context.requireTenant(of: profile, enrollment: enrollment)
    }

    /// A profile from its body, with the defaults filled in.
    static func profile(_ body: EnrollmentProfileBody, id: String) throws(APIError) -> EnrollmentProfile {
        guard let category = CertificateCategory(rawValue: body.category) else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown category \"\(body.category)\"; one of "
                    + CertificateCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        var protocols: [EnrollmentProfile.EnrollmentProtocol] = [.est, .scep]
        if let names = body.protocols {
            protocols = []
            for name in names {
                guard let value = EnrollmentProfile.EnrollmentProtocol(rawValue: name) else {
                    throw APIError.badRequest(
                        "invalid_input",
                        "unknown protocol \"\(name)\"; est, scep, acme, cmp, portal or console"
                    )
                }
                protocols.append(value)
            }
        }
        var approval = EnrollmentProfile.Approval.automatic
        if let name = body.approval {
            guard let value = EnrollmentProfile.Approval(rawValue: name) else {
                throw APIError.badRequest("invalid_input", "approval is automatic or manual, not \"\(name)\"")
            }
            approval = value
        }
        var whenUpstreamUnavailable: EnrollmentProfile.UpstreamUnavailable?
        if let name = body.whenUpstreamUnavailable {
            guard let value = EnrollmentProfile.UpstreamUnavailable(rawValue: name) else {
                throw APIError.badRequest("invalid_input", "whenUpstreamUnavailable is fail or hold, not \"\(name)\"")
            }
            whenUpstreamUnavailable = value
        }
        let authentication = body.authentication
        return EnrollmentProfile(
            id: id,
            ca: body.ca,
            category: category,
            validityDays: body.validityDays,
            subjectTemplate: body.subjectTemplate,
            protocols: protocols,
            authentication: .init(
                sharedPassword: authentication?.sharedPassword ?? false,
                oneTimePasswords: authentication?.oneTimePasswords ?? true,
                clientCertificateAnchors: authentication?.clientCertificateAnchors ?? []
            ),
            approval: approval,
            renewal: .init(
                windowDays: body.renewal?.windowDays,
                allowSameKey: body.renewal?.allowSameKey ?? true
            ),
            description: body.description,
            acme: body.acme.map { acme in
                let defaults = ACMEPolicy()
                return ACMEPolicy(
                    allowedDomains: acme.allowedDomains ?? [],
                    allowedIPRanges: acme.allowedIPRanges ?? [],
                    allowWildcards: acme.allowWildcards ?? defaults.allowWildcards,
                    challenges: acme.challenges ?? defaults.challenges,
                    termsOfService: acme.termsOfService,
                    externalAccountRequired: acme.externalAccountRequired ?? false,
                    ordersPerAccountPerHour: acme.ordersPerAccountPerHour ?? defaults.ordersPerAccountPerHour,
                    ordersPerIdentifierPerWeek: acme.ordersPerIdentifierPerWeek,
                    pendingHours: acme.pendingHours ?? defaults.pendingHours,
                    validAuthorizationDays: acme.validAuthorizationDays ?? defaults.validAuthorizationDays
                )
            },
            cmp: body.cmp.map { cmp in
                let defaults = CMPPolicy()
                return CMPPolicy(
                    implicitConfirm: cmp.implicitConfirm ?? defaults.implicitConfirm,
                    messageTimeSkewSeconds: cmp.messageTimeSkewSeconds ?? defaults.messageTimeSkewSeconds,
                    checkAfterSeconds: cmp.checkAfterSeconds ?? defaults.checkAfterSeconds,
                    confirmWaitSeconds: cmp.confirmWaitSeconds ?? defaults.confirmWaitSeconds
                )
            },
            whenUpstreamUnavailable: whenUpstreamUnavailable
        )
    }
}

extension CustosRequestContext {
    /// A credential limited to a tenant reaches the profiles of its tenant's CAs only (API and console).
    func requireTenant(of profile: EnrollmentProfile, enrollment: EnrollmentService) async throws {
        guard tenantLimit != nil else { return }
        try requireTenant(try await enrollment.authority.authority(profile.ca).record.tenant)
    }
}
