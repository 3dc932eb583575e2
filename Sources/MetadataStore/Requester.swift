/// Who asked for a change, as the audit log records it. Every service that writes takes one, so that
/// its audit entries name the credential (or the CLI) and the API request.
public struct Requester: Sendable {
    /// `credential/<id>`, `cli`, …
    public var actor: String
    /// The API request's id, if any.
    public var requestID: String?

    public init(actor: String, requestID: String? = nil) {
        self.actor = actor
        self.requestID = requestID
    }
}
