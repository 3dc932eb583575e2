import Access
import CA
import Console
import CustosX509
import Enrollment
import Foundation
import HSM
import Hummingbird
import MetadataStore
import Signing
import Vault
import X509

/// `/ui/`: the web console's sign-in and sign-out, language choice, stylesheet and dashboard; the CA and
/// certificate pages add themselves to the same signed-in group.
struct ConsoleRoutes {
    let site: ConsoleSite
    let authority: CertificateAuthority
    let enrollment: EnrollmentService
    let pool: SessionPool
    let counts: CertificateCounts
    let signing: SigningService
    let credentials: Credentials
    let vault: Vault

    func add(to router: Router<CustosRequestContext>) {
        router.get("ui/console.css") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: ConsoleStyle.sheet))
            )
        }
        router.get("ui/signin", use: signInPage)
        router.post("ui/signin", use: signIn)
        router.get("ui/language/:language", use: chooseLanguage)
        let group = router.group("ui").add(middleware: ConsoleAuthentication(site: site))
        group.get("/", use: dashboard)
        group.post("signout", use: signOut)
        ConsoleCARoutes(site: site, authority: authority).add(to: group)
        ConsoleCertificateRoutes(site: site, authority: authority).add(to: group)
        ConsoleRequestRoutes(site: site, enrollment: enrollment).add(to: group)
        ConsoleAuditRoutes(site: site, store: authority.store).add(to: group)
        ConsolePolicyRoutes(site: site, authority: authority).add(to: group)
        ConsoleProfileRoutes(site: site, enrollment: enrollment).add(to: group)
        ConsoleKeyRoutes(site: site, signing: signing, credentials: credentials).add(to: group)
        ConsoleVaultRoutes(site: site, vault: vault).add(to: group)
        ConsoleCredentialRoutes(site: site, credentials: credentials).add(to: group)
    }

    @Sendable func signInPage(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let parameters = request.uri.queryParameters
        let notice =
            parameters.get("expired") != nil
            ? words["sessionExpired"]
            : parameters.get("out") != nil
                ? words["signedOut"] : nil
        return try await signInForm(request, context, notice: notice, error: nil, status: .ok)
    }

    /// The sign-in form with a fresh double-submit token in its cookie, and a button for the TLS client
    /// certificate the connection presented when a live credential has it bound.
    private func signInForm(
        _ request: Request,
        _ context: CustosRequestContext,
        notice: String?,
        error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let token = ConsoleSessions.token()
        var values: [String: Any] = ["csrf": token]
        if let der = await context.tlsClientCertificateDER(), let certificate = try? Certificate(derEncoded: der),
            Self.isValidNow(certificate),
            let credential = try await site.sessions.credentials.authenticate(certificate: der)
        {
            values["certificate"] = [
                "subject": DistinguishedNameText.format(certificate.subject), "credential": credential.id,
            ]
        }
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        var response = site.page(.signin, request, context, title: "signIn", status: status, values: values)
        response.setCookie(site.cookie(ConsoleSite.signInCookie, token))
        return response
    }

    @Sendable func signIn(_ request: Request, context: CustosRequestContext) async throws -> Response {
        var request = request
        let words = ConsoleText.words(ConsoleSite.language(request))
        let form: [String: String]
        do {
            form = try ConsoleAuthentication.fields(
                String(buffer: try await request.collectBody(upTo: ConsoleAuthentication.maxFormBytes))
            )
        } catch {
            return site.errorPage(error, request, context)
        }
        guard let expected = request.cookies[ConsoleSite.signInCookie]?.value,
            ConsoleSessions.matches(form["csrf"], expected)
        else {
            return site.errorPage(
                APIError.forbidden(
                    "the sign-in form is not from this browser (missing or wrong CSRF token); reload it"
                ),
                request,
                context
            )
        }
        let signedIn: (secret: String, session: ConsoleSessions.Session)?
        var presented = false
        if form["method"] == "certificate" {
            // Smartcard sign-in: the certificate the TLS handshake proved, bound to a credential.
            let der = await context.tlsClientCertificateDER()
            presented = der != nil
            let certificate = der.flatMap { try? Certificate(derEncoded: $0) }
            signedIn = try await site.sessions.signIn(
                certificate: certificate == nil ? nil : der,
                valid: certificate.map(Self.isValidNow) ?? false,
                source: context.clientAddress,
                requestID: context.id
            )
        } else {
            signedIn = try await site.sessions.signIn(
                token: (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
                source: context.clientAddress,
                requestID: context.id
            )
        }
        guard let (secret, _) = signedIn else {
            let message =
                form["method"] != "certificate"
                ? words["signInFailed"]
                : presented ? words["certificateSignInFailed"] : words["noClientCertificate"]
            return try await signInForm(request, context, notice: nil, error: message, status: .unauthorized)
        }
        var response = ConsoleSite.redirect("/ui/")
        response.setCookie(site.cookie(ConsoleSessions.cookie, secret))
        response.setCookie(site.cookie(ConsoleSite.signInCookie, "", maxAge: 0))
        return response
    }

    static func isValidNow(_ certificate: Certificate) -> Bool {
        let now = Date()
        return certificate.notValidBefore <= now && now <= certificate.notValidAfter
    }

    @Sendable func signOut(_ request: Request, context: CustosRequestContext) async throws -> Response {
        if let session = context.console?.session { try await site.sessions.signOut(session, requestID: context.id) }
        var response = ConsoleSite.redirect("/ui/signin?out=1")
        response.setCookie(site.cookie(ConsoleSessions.cookie, "", maxAge: 0))
        return response
    }

    /// Remembers the language chosen and goes back to the page it was chosen on (a console path only).
    @Sendable func chooseLanguage(_ request: Request, context: CustosRequestContext) async throws -> Response {
        guard let language = ConsoleLanguage(rawValue: try context.parameters.require("language")) else {
            return site.errorPage(
                APIError(.notFound, "not_found", "the console speaks en and de"),
                request,
                context
            )
        }
        let back = request.uri.queryParameters.get("back") ?? "/ui/"
        let safe =
            (back.hasPrefix("/ui/") || back.hasPrefix("/portal/")) && !back.contains("//") && !back.contains("\\")
            ? back : "/ui/"
        var response = ConsoleSite.redirect(safe)
        // For the portal's pages too.
        response.setCookie(site.cookie(ConsoleSite.languageCookie, language.rawValue, maxAge: 365 * 86_400, path: "/"))
        return response
    }

    @Sendable func dashboard(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let values = try await ConsoleDashboard(authority: authority, pool: pool, counts: counts)
            .values(for: context.credential, language: ConsoleSite.language(request))
        return site.page(.dashboard, request, context, title: "dashboard", current: "dashboard", values: values)
    }
}
