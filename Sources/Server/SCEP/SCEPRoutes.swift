import Codecs
import Enrollment
import HTTPTypes
import Hummingbird
import NIOCore
import SCEP

/// `/scep/<profile>` (RFC 8894 section 4), GET and POST, public: the operation is the `operation` query
/// parameter. GetCACaps answers text, GetCACert the RA certificate and the CA chain as certs-only PKCS#7,
/// PKIOperation a CertRep signed by the RA (the message comes base64 in `message` with GET, DER in the
/// body with POST). Requests the protocol cannot answer with a CertRep get a 4xx text body.
struct SCEPRoutes {
    let enrollment: EnrollmentService
    static let maxMessageBytes = 64 * 1024

    func add(to router: Router<CustosRequestContext>) {
        router.get("scep/:profile", use: answer)
        router.post("scep/:profile", use: answer)
    }

    @Sendable func answer(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let profile = context.parameters.get("profile") ?? ""
        let operation = request.uri.queryParameters.get("operation").map { String($0) } ?? ""
        do throws(EnrollmentError) {
            switch operation {
            case "GetCACaps":
                _ = try await enrollment.scepCapabilities(profile: profile)
                return Self.response(.ok, type: "text/plain", bytes: Array(SCEPCapabilities.text.utf8))
            case "GetCACert":
                let der = try await enrollment.scepCACertificates(profile: profile, requestID: context.id)
                return Self.response(.ok, type: "application/x-x509-ca-ra-cert", bytes: der)
            case "PKIOperation":
                let message = try await Self.message(request)
                let reply = try await enrollment.scepOperation(
                    profile: profile,
                    message: message,
                    requestID: context.id
                )
                return Self.response(.ok, type: "application/x-pki-message", bytes: reply)
            default:
                _ = try await enrollment.scepCapabilities(profile: profile)
                throw EnrollmentError(
                    .invalidInput,
                    "operation \"\(operation.prefix(64))\" is not one of GetCACaps, GetCACert, PKIOperation"
                )
            }
        } catch {
            return Self.failure(error)
        }
    }

    /// The PKIOperation message: the POST body, or the base64 `message` parameter of a GET (clients
    /// escape `+` or send it as a space, and break lines).
    private static func message(_ request: Request) async throws(EnrollmentError) -> [UInt8] {
        if request.method == .post {
            guard let body = try? await request.body.collect(upTo: maxMessageBytes) else {
                throw EnrollmentError(
                    .invalidInput,
                    "the message is larger than \(maxMessageBytes) bytes or unreadable"
                )
            }
            return Array(buffer: body)
        }
        guard let text = request.uri.queryParameters.get("message"), text.utf8.count <= maxMessageBytes * 2,
            let der = Base64.decode(ignoringWhitespace: String(text).replacingOccurrences(of: " ", with: "+").utf8)
        else { throw EnrollmentError(.invalidInput, "a GET PKIOperation carries the message base64 in \"message\"") }
        return der
    }

    private static func failure(_ error: EnrollmentError) -> Response {
        let status: HTTPResponse.Status =
            switch error.code {
            case .unknownProfile: .notFound
            case .unavailable, .storeUnavailable: .serviceUnavailable
            case .internalError: .internalServerError
            case .notImplemented: .notImplemented
            default: .badRequest
            }
        var response = response(
            status,
            type: "text/plain; charset=utf-8",
            bytes: Array("\(error.code): \(error.message)\n".utf8)
        )
        if [.unavailable, .storeUnavailable].contains(error.code) { response.headers[.retryAfter] = "5" }
        return response
    }

    private static func response(_ status: HTTPResponse.Status, type: String, bytes: [UInt8]) -> Response {
        Response(
            status: status,
            headers: [.contentType: type],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
