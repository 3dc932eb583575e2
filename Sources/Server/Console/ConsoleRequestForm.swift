import Codecs
import Console
import Enrollment
import Hummingbird

/// `/ui/requests/new`: an officer asks for a certificate on someone's behalf through a profile that
/// offers `console`. Under manual approval the request waits in the queue for another officer (four
/// eyes); otherwise the certificate is issued at once.
struct ConsoleRequestForm {
    let site: ConsoleSite
    let enrollment: EnrollmentService

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("requests/new", use: form)
        group.post("requests/new", use: submit)
    }

    @Sendable func form(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        return try await page(request, context, form: [:], error: nil, status: .ok)
    }

    @Sendable func submit(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let form = context.console?.form ?? [:]
        do {
            let der = try ConsoleSite.requestDER(form["csr"] ?? "", words: words)
            let profile = try await enrollment.profile(form["profile"] ?? "")
            try await context.requireTenant(of: profile, enrollment: enrollment)
            let outcome = try await enrollment.enroll(
                EnrollmentRequest(
                    profile: profile.id,
                    protocolName: .console,
                    operation: .enroll,
                    csr: der,
                    credentials: ClientCredentials(officer: context.requester.actor),
                    requestID: context.id
                )
            )
            switch outcome {
            case .issued(let record, _):
                return ConsoleSite.redirect(ConsoleCertificateRoutes.href(record))
            case .pending:
                return ConsoleSite.redirect("/ui/requests?submitted=1")
            }
        } catch {
            let apiError = try ConsoleCertificateActions.refusal(error)
            return try await page(request, context, form: form, error: apiError.message, status: apiError.status)
        }
    }

    private func page(
        _ request: Request,
        _ context: CustosRequestContext,
        form: [String: String],
        error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        var profiles: [[String: Any]] = []
        for profile in try await enrollment.profiles(after: nil, limit: .max) where profile.protocols.contains(.console)
        {
            guard (try? await context.requireTenant(of: profile, enrollment: enrollment)) != nil else { continue }
            profiles.append([
                "id": profile.id, "selected": profile.id == form["profile"],
                "label": "\(profile.id) (\(profile.ca), \(profile.category.rawValue), \(profile.approval.rawValue))",
            ])
        }
        var values: [String: Any] = ["profiles": profiles, "hasProfiles": !profiles.isEmpty, "form": form]
        if let error { values["error"] = error }
        return site.page(
            .newRequest,
            request,
            context,
            title: "newRequest",
            current: "requests",
            status: status,
            values: values
        )
    }
}
