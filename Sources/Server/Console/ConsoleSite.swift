import Access
import Codecs
import Console
import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore

/// What every console route shares: the templates, the sessions, and how pages and redirects are
/// answered (with the security headers a console needs).
struct ConsoleSite: Sendable {
    let pages: ConsolePages
    let sessions: ConsoleSessions
    /// Whether the server speaks TLS: cookies are then `Secure`.
    let overTLS: Bool

    /// The cookie that holds an explicit language choice.
    static let languageCookie = "custos_lang"
    /// The cookie of the sign-in form's double-submit token (there is no session yet to hold one).
    static let signInCookie = "custos_signin"
    /// The roles the console serves; signers and vault clients use the API.
    static let roles: Set<CredentialRecord.Role> = [.admin, .officer, .auditor]

    /// Scripts only from the console itself (there are none yet), no inline styles, no framing, forms
    /// only to the console.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// The language of a request: its cookie, else its `Accept-Language`.
    static func language(_ request: Request) -> ConsoleLanguage {
        ConsoleLanguage.pick(
            chosen: request.cookies[languageCookie]?.value,
            acceptLanguage: request.headers[.acceptLanguage]
        )
    }

    /// The frame of a page for the request's session (if any).
    func frame(_ request: Request, _ context: CustosRequestContext, title: String, current: String? = nil)
        -> ConsoleFrame
    {
        let language = Self.language(request)
        var session: ConsoleFrame.Session?
        if let console = context.console {
            let credential = console.session.credential
            var pages = [
                ("/ui/", "dashboard"), ("/ui/cas", "cas"), ("/ui/certificates", "certificates"),
                ("/ui/requests", "requests"),
            ]
            pages += [("/ui/policies", "policies"), ("/ui/profiles", "profiles"), ("/ui/keys", "keys")]
            if credential.role == .admin || credential.role == .auditor {
                pages += [("/ui/vault", "vault"), ("/ui/credentials", "credentials"), ("/ui/audit", "audit")]
            }
            let navigation: [ConsoleFrame.Link] =
                Self.roles.contains(credential.role)
                ? pages.map { ConsoleFrame.Link(href: $0.0, label: $0.1, current: $0.1 == current) } : []
            session = .init(
                actor: "credential/\(credential.id)",
                role: credential.role.rawValue,
                csrf: console.session.record.csrfToken,
                navigation: navigation
            )
        }
        if let portal = context.portal {
            session = .init(
                actor: portal.session.client,
                role: portal.session.record.profile,
                csrf: portal.session.record.csrfToken,
                navigation: [],
                signOut: "/portal/signout"
            )
        }
        return ConsoleFrame(language: language, title: title, session: session, path: request.uri.path)
    }

    /// A rendered page.
    func page(
        _ page: ConsolePage,
        _ request: Request,
        _ context: CustosRequestContext,
        title: String,
        current: String? = nil,
        status: HTTPResponse.Status = .ok,
        values: [String: Any]
    ) -> Response {
        html(pages.render(page, frame: frame(request, context, title: title, current: current), values: values), status)
    }

    /// The error page for `error`, with the status the API would answer.
    func errorPage(_ error: any Error, _ request: Request, _ context: CustosRequestContext) -> Response {
        let apiError = ObservabilityMiddleware.apiError(for: error)
        let words = ConsoleText.words(Self.language(request))
        let heading = apiError.status == .forbidden ? words["forbiddenTitle"] ?? "" : words["errorTitle"] ?? ""
        return page(
            .error,
            request,
            context,
            title: heading,
            status: apiError.status,
            values: ["heading": heading, "message": apiError.message]
        )
    }

    /// HTML with the console's headers: no caching (pages show who is signed in), no sniffing, the CSP.
    func html(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: Self.headers(contentType: "text/html; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// A download (certificates, chains, CRLs) named `filename`.
    func download(_ bytes: [UInt8], contentType: String, filename: String) -> Response {
        var headers = Self.headers(contentType: contentType)
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// 303 See Other to `location` (after a form, so that reloading does not post again).
    static func redirect(_ location: String) -> Response {
        var headers = headers(contentType: "text/plain; charset=utf-8")
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func headers(contentType: String) -> HTTPFields {
        [
            .contentType: contentType,
            .cacheControl: "no-store",
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            ConsoleSite.frameOptions: "DENY",
            ConsoleSite.referrerPolicy: "no-referrer",
        ]
    }

    /// A cookie of the console: HttpOnly, SameSite=Strict, Secure over TLS; `maxAge` 0 removes it.
    func cookie(_ name: String, _ value: String, maxAge: Int? = nil, path: String = "/ui") -> Cookie {
        Cookie(
            name: name,
            value: value,
            maxAge: maxAge,
            path: path,
            secure: overTLS,
            httpOnly: true,
            sameSite: .strict
        )
    }

    /// The DER of a PKCS#10 request pasted as PEM (console and portal forms).
    static func requestDER(_ text: String, words: [String: String]) throws(APIError) -> [UInt8] {
        let block: PEM.Block
        do { block = try PEM.block(text) } catch {
            throw APIError.badRequest("invalid_input", words["csrNotPEM"] ?? "")
        }
        guard block.label == "CERTIFICATE REQUEST" || block.label == "NEW CERTIFICATE REQUEST" else {
            throw APIError.badRequest("invalid_input", "the request is a \(block.label), not a CERTIFICATE REQUEST")
        }
        return block.der
    }

    /// A time as the console shows it: `2027-01-31 14:05 UTC`.
    static func time(nanoseconds: Int64) -> String { time(Date(timeIntervalSince1970: Double(nanoseconds) / 1e9)) }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}

/// The console's state of a request: its session and, for a form, the fields it posted.
struct ConsoleRequestState: Sendable {
    var session: ConsoleSessions.Session
    var form: [String: String]
}
