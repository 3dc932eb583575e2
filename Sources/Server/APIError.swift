import APIModels
import Access
import CA
import Enrollment
import Foundation
public import HTTPTypes
public import Hummingbird
import Notifications
import Signing
import Vault

/// An error answer: `{"error": {"code": "…", "message": "…", "requestId": "…"}}` with an HTTP status.
/// `code` is stable and documented in the API reference; `message` is for people.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorBody(error: ErrorDetail(code: code, message: message, requestId: context.id))
        var headers = self.headers
        headers[.contentType] = "application/json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code, message) }

    static let unauthorized = APIError(
        .unauthorized,
        "unauthorized",
        "a valid credential is required: Authorization: Bearer <credential>",
        headers: [.wwwAuthenticate: "Bearer realm=\"custos\""]
    )

    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }

    /// The API's answer for a signing-service error.
    static func from(_ error: SigningError) -> APIError {
        switch error.code {
        case .unknownKey: APIError(.notFound, error.code.rawValue, error.message)
        case .keyExists, .keyDisabled, .noCertificate: APIError(.conflict, error.code.rawValue, error.message)
        case .overloaded:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "1"])
        case .hsmUnavailable, .storeUnavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .timestampUnavailable: APIError(.badGateway, error.code.rawValue, error.message)
        case .hsmError: APIError(.internalServerError, error.code.rawValue, error.message)
        default: APIError(.badRequest, error.code.rawValue, error.message)
        }
    }
}

extension APIError {
    /// The API's answer for a CA error.
    static func from(_ error: CAError) -> APIError {
        switch error.code {
        case .unknownCA, .unknownCertificate: APIError(.notFound, error.code.rawValue, error.message)
        case .caExists, .caNotUsable, .alreadyRevoked, .conflict:
            APIError(.conflict, error.code.rawValue, error.message)
        case .policyViolation, .upstreamRefused: APIError(.unprocessableContent, error.code.rawValue, error.message)
        case .hsmUnavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .upstreamUnavailable:
            APIError(.badGateway, error.code.rawValue, error.message, headers: [.retryAfter: "30"])
        case .storeUnavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .internalError: APIError(.internalServerError, error.code.rawValue, error.message)
        default: APIError(.badRequest, error.code.rawValue, error.message)
        }
    }
}

extension APIError {
    /// The API's answer for a vault error.
    static func from(_ error: VaultError) -> APIError {
        switch error.code {
        case .unknownNamespace, .unknownSecret, .unknownKey: APIError(.notFound, error.code.rawValue, error.message)
        case .forbiddenByPolicy: APIError(.forbidden, error.code.rawValue, error.message)
        case .namespaceExists, .archived, .keyExists, .rotationInProgress, .writeConflict:
            APIError(.conflict, error.code.rawValue, error.message)
        case .tooLarge: APIError(.contentTooLarge, error.code.rawValue, error.message)
        case .notImplemented: APIError(.notImplemented, error.code.rawValue, error.message)
        case .hsmUnavailable, .storeUnavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .integrityError, .internalError: APIError(.internalServerError, error.code.rawValue, error.message)
        default: APIError(.badRequest, error.code.rawValue, error.message)
        }
    }
}

extension APIError {
    /// 403 for a refused access decision, 400 for a malformed credential request.
    init(_ error: AccessError) {
        switch error.code {
        case .forbidden: self = .forbidden(error.message)
        default: self = .badRequest(error.code.rawValue, error.message)
        }
    }
}

extension ItemError {
    init(_ error: SigningError) { self.init(code: error.code.rawValue, message: error.message) }
    init(_ error: APIError) { self.init(code: error.code, message: error.message) }
}

extension APIError {
    /// The API's answer for an enrollment error (the protocols answer in their own terms).
    static func from(_ error: EnrollmentError) -> APIError {
        switch error.code {
        case .unknownProfile, .unknownRequest: APIError(.notFound, error.code.rawValue, error.message)
        case .profileExists, .alreadyDecided: APIError(.conflict, error.code.rawValue, error.message)
        case .unauthenticated: APIError(.unauthorized, error.code.rawValue, error.message)
        case .forbidden, .rejected: APIError(.forbidden, error.code.rawValue, error.message)
        case .policyViolation: APIError(.unprocessableContent, error.code.rawValue, error.message)
        case .notImplemented: APIError(.notImplemented, error.code.rawValue, error.message)
        case .unavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .upstreamUnavailable:
            APIError(.badGateway, error.code.rawValue, error.message, headers: [.retryAfter: "30"])
        case .storeUnavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .internalError: APIError(.internalServerError, error.code.rawValue, error.message)
        default: APIError(.badRequest, error.code.rawValue, error.message)
        }
    }
}

extension APIError {
    /// The API's answer for a notification error.
    static func from(_ error: NotificationError) -> APIError {
        switch error.code {
        case .unknownChannel, .unknownRule, .unknownNotification, .unknownAction:
            APIError(.notFound, error.code.rawValue, error.message)
        case .channelInUse, .conflict: APIError(.conflict, error.code.rawValue, error.message)
        case .forbidden: .forbidden(error.message)
        case .storeUnavailable:
            APIError(.serviceUnavailable, error.code.rawValue, error.message, headers: [.retryAfter: "5"])
        case .internalError: APIError(.internalServerError, error.code.rawValue, error.message)
        case .invalidInput: APIError(.badRequest, error.code.rawValue, error.message)
        }
    }
}
