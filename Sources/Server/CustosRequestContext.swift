public import Hummingbird
public import MetadataStore

/// Per-request state: Hummingbird's core context plus the authenticated credential.
public struct CustosRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware on protected routes.
    public var credential: CredentialRecord?

    public init(source: Source) {
        coreContext = .init(source: source)
        credential = nil
    }

    /// Who is asking, as the audit log names it.
    var actor: String { credential.map { "credential/\($0.id)" } ?? "anonymous" }
}
