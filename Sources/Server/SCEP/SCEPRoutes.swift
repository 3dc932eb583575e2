import Enrollment
import HTTPTypes
import Hummingbird
import NIOCore

/// `/scep/<profile>` (RFC 8894). Not built yet: every operation of a profile that offers SCEP answers
/// 501 with a text body that says so, so that a client (or its operator) reads why instead of a bare 404.
/// Profiles that do not offer SCEP, and unknown ones, answer 404.
struct SCEPRoutes {
    let enrollment: EnrollmentService

    func add(to router: Router<CustosRequestContext>) {
        router.get("scep/:profile", use: answer)
        router.post("scep/:profile", use: answer)
    }

    @Sendable func answer(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let id = context.parameters.get("profile") ?? ""
        let profile: EnrollmentProfile
        do { profile = try enrollment.profile(id) } catch {
            return Self.text(.notFound, "unknown_profile: \(error.message)")
        }
        guard profile.protocols.contains(.scep) else {
            return Self.text(.notFound, "unknown_profile: profile \(id) does not offer SCEP")
        }
        let operation = request.uri.queryParameters.get("operation").map { String($0) } ?? "(none)"
        return Self.text(
            .notImplemented,
            "not_implemented: SCEP (RFC 8894) is not built yet (operation \(operation.prefix(64))); "
                + "enroll over EST at /.well-known/est/\(id)/"
        )
    }

    private static func text(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message + "\n"))
        )
    }
}
