public import Hummingbird
public import MetadataStore
import NIOCore

/// Per-request state: Hummingbird's core context plus the authenticated credential.
public struct CustosRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authentication middleware on protected routes.
    public var credential: CredentialRecord?
    /// Set by the console's middleware on `/ui/` routes: the session and any posted form.
    var console: ConsoleRequestState?
    /// Set by the portal's middleware on `/portal/` routes.
    var portal: PortalRequestState?
    /// The connection the request came on (for the client's address, which is read only when needed).
    let channel: (any Channel)?

    public init(source: Source) {
        coreContext = .init(source: source)
        credential = nil
        console = nil
        portal = nil
        channel = source.channel
    }

    /// The client's IP address, or `unknown`.
    var clientAddress: String { channel?.remoteAddress?.ipAddress ?? "unknown" }

    /// Who is asking, as the audit log names it.
    var actor: String { credential.map { "credential/\($0.id)" } ?? "anonymous" }
}
