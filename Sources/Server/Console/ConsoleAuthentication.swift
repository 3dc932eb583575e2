import Access
import Hummingbird
import MetadataStore

/// Guards every signed-in console route: finds the session of the cookie (or sends the browser to the
/// sign-in page), lets only the console's roles past, checks the CSRF token of every form before any
/// handler runs, and shows errors as pages rather than JSON.
struct ConsoleAuthentication: RouterMiddleware {
    typealias Context = CustosRequestContext
    let site: ConsoleSite
    /// The largest form the console accepts.
    static let maxFormBytes = 64 << 10

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        var request = request
        do {
            let secret = request.cookies[ConsoleSessions.cookie]?.value ?? ""
            let session: ConsoleSessions.Session
            switch try await site.sessions.find(secret: secret) {
            case .none: return ConsoleSite.redirect("/ui/signin")
            case .expired:
                var response = ConsoleSite.redirect("/ui/signin?expired=1")
                response.setCookie(site.cookie(ConsoleSessions.cookie, "", maxAge: 0))
                return response
            case .active(let found): session = found
            }
            context.credential = session.credential
            var form: [String: String] = [:]
            if request.method == .post {
                let body = try await request.collectBody(upTo: Self.maxFormBytes)
                form = try Self.fields(String(buffer: body))
                // SameSite=Strict keeps the cookie off cross-site posts already; the token also refuses
                // a form that a page of this origin did not render for this session.
                guard ConsoleSessions.matches(form["csrf"], session.record.csrfToken) else {
                    throw APIError.forbidden(
                        "the form is not from this session (missing or wrong CSRF token); reload the page"
                    )
                }
            }
            context.console = ConsoleRequestState(session: session, form: form)
            let path = request.uri.path
            if !ConsoleSite.roles.contains(session.credential.role), path != "/ui/signout" {
                throw APIError.forbidden(
                    "the console is for administrators, officers and auditors; a \(session.credential.role.rawValue) "
                        + "credential uses the API"
                )
            }
            return try await next(request, context)
        } catch {
            if let apiError = error as? APIError, apiError.status == .forbidden {
                ServerMetrics.accessDenied(status: 403)
                try? await site.sessions.credentials.recordRefusal(
                    actor: context.actor,
                    request: "\(request.method) \(request.uri.path.prefix(512))",
                    outcome: "denied: \(apiError.message)",
                    requestID: context.id
                )
            }
            return site.errorPage(error, request, context)
        }
    }

    /// The fields of a form (`application/x-www-form-urlencoded`); a repeated field keeps its last value.
    static func fields(_ body: String) throws -> [String: String] {
        guard !body.isEmpty else { return [:] }
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: body)
        } catch {
            throw APIError.badRequest("invalid_input", "the form does not decode: \(error)")
        }
    }
}
