import ACME
import Enrollment
import HTTPTypes
import Hummingbird
import NIOCore

/// `/acme/<profile>/…` (RFC 8555), public: the directory and nonces by GET and HEAD, everything else by
/// POST of a JWS. The URLs in answers start with the scheme and `Host` the client used.
struct ACMERoutes {
    let acme: ACMEService
    let overTLS: Bool

    func add(to router: Router<CustosRequestContext>) {
        for method in [HTTPRequest.Method.get, .head, .post] {
            router.on("acme/:profile/**", method: method, use: answer)
        }
    }

    @Sendable func answer(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let profile = context.parameters.get("profile") ?? ""
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // "", "acme", profile, rest…
        let path = Array(segments.dropFirst(3))
        guard let host = request.head.authority, Self.isHost(host) else {
            return Self.response(
                ACMEProblem(.malformed, "the request has no usable Host header"),
                status: .badRequest
            )
        }
        let method: ACMERequest.Method
        switch request.method {
        case .get: method = .get
        case .head: method = .head
        case .post: method = .post
        default:
            return Self.response(
                ACMEProblem(.malformed, "ACME uses GET, HEAD and POST", status: 405),
                status: .methodNotAllowed
            )
        }
        var body: [UInt8] = []
        if method == .post {
            guard let buffer = try? await request.body.collect(upTo: ACMEService.maxBodyBytes) else {
                return Self.response(
                    ACMEProblem(.malformed, "the body is larger than \(ACMEService.maxBodyBytes) bytes", status: 413),
                    status: .contentTooLarge
                )
            }
            body = Array(buffer: buffer)
        }
        let answer = await acme.handle(
            ACMERequest(
                profile: profile,
                method: method,
                path: path,
                origin: (overTLS ? "https://" : "http://") + host,
                contentType: request.headers[.contentType],
                body: body,
                requestID: context.id
            )
        )
        var headers: HTTPFields = [:]
        if let type = answer.contentType { headers[.contentType] = type }
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers,
            body: method == .head ? .init() : .init(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }

    /// A host name or address with an optional port: nothing that could change the URLs' meaning.
    static func isHost(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 261
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x3A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5B || byte == 0x5D
            }
    }

    private static func response(_ problem: ACMEProblem, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: problem.json))
        )
    }
}
