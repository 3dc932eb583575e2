import Enrollment
import HTTPTypes
import Hummingbird
import NIOCore

/// `/.well-known/cmp/p/<profile>` and `/.well-known/cmp` (the profile `default`): CMP over HTTP (RFC
/// 9811), public: a POST of one DER PKIMessage (`application/pkixcmp`) answered with one. Every message
/// CMP can answer gets a protected CMP answer (errors included, HTTP 200); what CMP cannot answer (an
/// unknown profile, another method or media type, a body too large) gets a 4xx text body.
struct CMPRoutes {
    let enrollment: EnrollmentService
    static let mediaType = "application/pkixcmp"

    func add(to router: Router<CustosRequestContext>) {
        router.post(".well-known/cmp", use: answerDefault)
        router.post(".well-known/cmp/p/:profile", use: answer)
        // An operation label (RFC 9483 section 6.1: initialization, keyupdate, getcacerts, …) may follow; the
        // message's body says what it is, so the label is not needed.
        router.post(".well-known/cmp/p/:profile/:operation", use: answer)
        router.get(".well-known/cmp", use: methodNotAllowed)
        router.get(".well-known/cmp/p/:profile", use: methodNotAllowed)
    }

    @Sendable func answerDefault(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try await answer(request, profile: "default", context: context)
    }

    @Sendable func answer(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try await answer(request, profile: context.parameters.get("profile") ?? "", context: context)
    }

    private func answer(_ request: Request, profile: String, context: CustosRequestContext) async throws -> Response {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard type?.lowercased() == Self.mediaType else {
            return Self.text(.unsupportedMediaType, "a CMP request is a DER PKIMessage sent as \(Self.mediaType)")
        }
        guard let body = try? await request.body.collect(upTo: PKIMessageLimit.bytes) else {
            return Self.text(.contentTooLarge, "a CMP request has at most \(PKIMessageLimit.bytes) bytes")
        }
        do {
            let reply = try await enrollment.cmpMessage(
                profile: profile,
                message: Array(buffer: body),
                requestID: context.id
            )
            return Response(
                status: .ok,
                headers: [.contentType: Self.mediaType, .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: reply))
            )
        } catch {
            let status: HTTPResponse.Status =
                switch error.code {
                case .unknownProfile: .notFound
                case .unavailable, .storeUnavailable: .serviceUnavailable
                case .internalError: .internalServerError
                default: .badRequest
                }
            var response = Self.text(status, "\(error.code): \(error.message)")
            if [.unavailable, .storeUnavailable].contains(error.code) { response.headers[.retryAfter] = "5" }
            return response
        }
    }

    @Sendable func methodNotAllowed(_ request: Request, context: CustosRequestContext) async throws -> Response {
        var response = Self.text(.methodNotAllowed, "CMP messages are POSTed (RFC 9811 section 3)")
        response.headers[.allow] = "POST"
        return response
    }

    private static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message + "\n"))
        )
    }
}

/// The largest CMP request body read.
enum PKIMessageLimit {
    static let bytes = 256 * 1024
}
