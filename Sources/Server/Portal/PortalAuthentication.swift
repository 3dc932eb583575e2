import Hummingbird

/// Guards the signed-in portal pages as `ConsoleAuthentication` guards the console's: the session of the
/// cookie (or the sign-in page), the CSRF token of every form before any handler runs, errors as pages.
struct PortalAuthentication: RouterMiddleware {
    typealias Context = CustosRequestContext
    let site: ConsoleSite
    let sessions: PortalSessions

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        var request = request
        do {
            let found = try await sessions.find(secret: request.cookies[PortalSessions.cookie]?.value ?? "")
            guard let session = found.session else {
                var response = ConsoleSite.redirect(found.expired ? "/portal/signin?expired=1" : "/portal/signin")
                if found.expired {
                    response.setCookie(site.cookie(PortalSessions.cookie, "", maxAge: 0, path: "/portal"))
                }
                return response
            }
            var form: [String: String] = [:]
            if request.method == .post {
                let body = try await request.collectBody(upTo: ConsoleAuthentication.maxFormBytes)
                form = try ConsoleAuthentication.fields(String(buffer: body))
                guard ConsoleSessions.matches(form["csrf"], session.record.csrfToken) else {
                    throw APIError.forbidden(
                        "the form is not from this session (missing or wrong CSRF token); reload the page"
                    )
                }
            }
            context.portal = PortalRequestState(session: session, form: form)
            return try await next(request, context)
        } catch {
            return site.errorPage(error, request, context)
        }
    }
}

/// The portal's state of a request: its session and, for a form, the fields it posted.
struct PortalRequestState: Sendable {
    var session: PortalSessions.Session
    var form: [String: String]
}
