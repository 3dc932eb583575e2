import CA
import Codecs
import Console
import Enrollment
import Foundation
import Hummingbird
import MetadataStore

/// `/portal/`: the self-service portal. A person signs in with an enrollment password of a profile that
/// offers the portal, asks for a certificate with a CSR (pasted, or made in the page with a key the
/// browser generates and keeps), and sees and downloads what they asked for.
struct PortalRoutes {
    let site: ConsoleSite
    let sessions: PortalSessions
    let enrollment: EnrollmentService

    func add(to router: Router<CustosRequestContext>) {
        router.get("portal/portal.js") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: PortalScript.source))
            )
        }
        router.get("portal/signin", use: signInPage)
        router.post("portal/signin", use: signIn)
        let group = router.group("portal").add(middleware: PortalAuthentication(site: site, sessions: sessions))
        group.get("/", use: home)
        group.post("request", use: request)
        group.post("signout", use: signOut)
        group.get("certificates/:serial", use: download)
        PortalCertificateRoutes(site: site, enrollment: enrollment).add(to: group)
    }

    static let signInCookie = "custos_portal_signin"

    @Sendable func signInPage(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let parameters = request.uri.queryParameters
        let notice =
            parameters.get("expired") != nil
            ? words["sessionExpired"]
            : parameters.get("out") != nil
                ? words["signedOut"] : nil
        return signInForm(
            request,
            context,
            form: ["profile": parameters.get("profile") ?? ""],
            notice: notice,
            error: nil,
            status: .ok
        )
    }

    private func signInForm(
        _ request: Request,
        _ context: CustosRequestContext,
        form: [String: String],
        notice: String?,
        error: String?,
        status: HTTPResponse.Status
    ) -> Response {
        let token = ConsoleSessions.token()
        var values: [String: Any] = ["csrf": token, "form": form]
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        var response = site.page(.portalSignin, request, context, title: "portalTitle", status: status, values: values)
        response.setCookie(site.cookie(Self.signInCookie, token, path: "/portal"))
        return response
    }

    @Sendable func signIn(_ request: Request, context: CustosRequestContext) async throws -> Response {
        var request = request
        let form: [String: String]
        do {
            form = try ConsoleAuthentication.fields(
                String(buffer: try await request.collectBody(upTo: ConsoleAuthentication.maxFormBytes))
            )
        } catch {
            return site.errorPage(error, request, context)
        }
        guard let expected = request.cookies[Self.signInCookie]?.value, ConsoleSessions.matches(form["csrf"], expected)
        else {
            return site.errorPage(
                APIError.forbidden(
                    "the sign-in form is not from this browser (missing or wrong CSRF token); reload it"
                ),
                request,
                context
            )
        }
        let profile = (form["profile"] ?? "").trimmingCharacters(in: .whitespaces)
        let user = (form["user"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let (secret, _) = try await sessions.signIn(
                profile: profile,
                user: user,
                password: form["password"] ?? "",
                source: context.clientAddress,
                requestID: context.id
            )
            var response = ConsoleSite.redirect("/portal/")
            response.setCookie(site.cookie(PortalSessions.cookie, secret, path: "/portal"))
            response.setCookie(site.cookie(Self.signInCookie, "", maxAge: 0, path: "/portal"))
            return response
        } catch {
            // One message for an unknown profile and a wrong password: the form tells no one which exist.
            guard let refusal = error as? EnrollmentError else { throw error }
            let words = ConsoleText.words(ConsoleSite.language(request))
            let message =
                refusal.code == .unauthenticated || refusal.code == .unknownProfile
                ? words["portalSignInFailed"] ?? refusal.message : refusal.message
            return signInForm(
                request,
                context,
                form: ["profile": profile, "user": user],
                notice: nil,
                error: message,
                status: .unauthorized
            )
        }
    }

    @Sendable func signOut(_ request: Request, context: CustosRequestContext) async throws -> Response {
        if let session = context.portal?.session { try await sessions.signOut(session) }
        var response = ConsoleSite.redirect("/portal/signin?out=1")
        response.setCookie(site.cookie(PortalSessions.cookie, "", maxAge: 0, path: "/portal"))
        return response
    }

    @Sendable func home(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try await page(request, context, form: [:], notice: nil, error: nil, status: .ok)
    }

    /// A request from the form: the CSR (pasted or made in the page), issued at once or held for an officer.
    @Sendable func request(_ request: Request, context: CustosRequestContext) async throws -> Response {
        guard let state = context.portal else { throw APIError.unauthorized }
        let words = ConsoleText.words(ConsoleSite.language(request))
        let form = state.form
        let text = form["csr"] ?? ""
        let der: [UInt8]
        do {
            der = try ConsoleSite.requestDER(text, words: words)
        } catch {
            return try await page(request, context, form: form, notice: nil, error: error.message, status: .badRequest)
        }
        do {
            // A renewal names one of the person's own certificates; the request must keep its names.
            var renewing: CertificateRecord?
            if let serial = form["renews"], !serial.isEmpty {
                renewing = try await PortalCertificateRoutes.own(serial, state, enrollment)
            }
            var asked = EnrollmentRequest(
                profile: state.session.record.profile,
                protocolName: .portal,
                operation: renewing == nil ? .enroll : .reenroll,
                csr: der,
                credentials: try await enrollment.portalCredentials(
                    secretID: state.session.record.enrollmentSecretID,
                    user: state.session.record.user
                ),
                requestID: context.id
            )
            asked.renewing = renewing
            let outcome = try await enrollment.enroll(asked)
            switch outcome {
            case .issued(let record, _):
                return ConsoleSite.redirect("/portal/?issued=\(Hex.encode(record.serial))")
            case .pending:
                return ConsoleSite.redirect("/portal/?pending=1")
            }
        } catch {
            let apiError = ObservabilityMiddleware.apiError(for: error)
            guard apiError.status.code < 500 else { throw error }
            return try await page(
                request,
                context,
                form: form,
                notice: nil,
                error: apiError.message,
                status: apiError.status
            )
        }
    }

    /// One of the session's own certificates, as PEM.
    @Sendable func download(_ request: Request, context: CustosRequestContext) async throws -> Response {
        guard let state = context.portal else { throw APIError.unauthorized }
        let serial = try context.parameters.require("serial").lowercased()
        let history = try await enrollment.portalHistory(
            profile: state.session.record.profile,
            client: state.session.client
        )
        guard let record = history.certificates.first(where: { Hex.encode($0.serial) == serial }) else {
            throw APIError(.notFound, "not_found", "you have no certificate with serial \(serial)")
        }
        return site.download(
            Array((PEM.encode(record.der) + "\n").utf8),
            contentType: "application/x-pem-file",
            filename: "\(serial).pem"
        )
    }

    private func page(
        _ request: Request,
        _ context: CustosRequestContext,
        form: [String: String],
        notice: String?,
        error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        guard let state = context.portal else { throw APIError.unauthorized }
        let words = ConsoleText.words(ConsoleSite.language(request))
        let profile = try await enrollment.profile(state.session.record.profile)
        let history = try await enrollment.portalHistory(profile: profile.id, client: state.session.client)
        let certificates: [[String: Any]] = history.certificates.map { record in
            let status = ConsoleCertificateRoutes.status(record)
            return [
                "serial": Hex.encode(record.serial), "subject": record.subject,
                "status": words[status] ?? status, "statusClass": status,
                "notAfter": ConsoleSite.time(nanoseconds: record.notAfter),
                "href": "/portal/certificates/\(Hex.encode(record.serial))",
                "valid": status == "valid",
                "renewHref": "/portal/?renew=\(Hex.encode(record.serial))#request-title",
            ]
        }
        let requests: [[String: Any]] = history.requests.map { record in
            [
                "created": ConsoleSite.time(nanoseconds: record.created),
                "subject": EnrollmentService.requestedSubject(of: record) ?? "",
                "state": words["state." + record.state.rawValue] ?? record.state.rawValue,
                "reason": record.reason ?? "",
            ]
        }
        var values: [String: Any] = [
            "profile": profile.id, "description": profile.description ?? "", "approval": profile.approval == .manual,
            "certificates": certificates, "hasCertificates": !certificates.isEmpty,
            "requests": requests, "hasRequests": !requests.isEmpty, "form": form,
            "reasons": EnrollmentService.portalRevocationReasons.map(\.description),
        ]
        let parameters = request.uri.queryParameters
        if let serial = parameters.get("issued") {
            values["notice"] = ConsolePages.fill(words["portalIssued"] ?? "", ["serial": serial])
            values["issuedHref"] = "/portal/certificates/\(serial)"
        } else if parameters.get("pending") != nil {
            values["notice"] = words["portalPending"]
        } else if let serial = parameters.get("revoked") {
            values["notice"] = ConsolePages.fill(words["portalRevoked"] ?? "", ["serial": serial])
        }
        // Renewing one of the person's certificates: the form keeps its name and says so.
        let renews = parameters.get("renew") ?? form["renews"]
        if let renews, let record = history.certificates.first(where: { Hex.encode($0.serial) == renews.lowercased() })
        {
            values["renewing"] = ["serial": Hex.encode(record.serial), "subject": record.subject]
            if form["commonName"] == nil {
                values["form"] = form.merging(["commonName": PortalCertificateRoutes.commonName(record)]) { $1 }
            }
        }
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return site.page(.portal, request, context, title: "portalTitle", status: status, values: values)
    }
}
