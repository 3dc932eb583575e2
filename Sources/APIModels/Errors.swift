/// The body of every error answer (4xx and 5xx): `{"error": {"code", "message", "requestId"}}`.
public struct ErrorBody: APIModel {
    public var error: ErrorDetail

    public init(error: ErrorDetail) { self.error = error }

    public static let example = ErrorBody(error: .example)
}

/// What went wrong: a stable machine-readable `code`, a message for people, and the request's id as
/// the server logged it.
public struct ErrorDetail: APIModel {
    public var code: String
    public var message: String
    public var requestId: String?

    public init(code: String, message: String, requestId: String? = nil) {
        self.code = code
        self.message = message
        self.requestId = requestId
    }

    public static let example = ErrorDetail(code: "not_found", message: "no CA \"issuing\"", requestId: "7f3a")
}
