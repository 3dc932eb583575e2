/// One HTTP exchange at an ACME endpoint, as the server hands it over and gets it back: the protocol
/// code needs no HTTP types.
public struct ACMERequest: Sendable {
    public enum Method: String, Sendable {
        case get = "GET", head = "HEAD", post = "POST"
    }

    /// The profile named in the URL (`/acme/<profile>/…`).
    public var profile: String
    public var method: Method
    /// The path's segments after `/acme/<profile>/`.
    public var path: [String]
    /// `https://host:port` as the client reached the server: URLs in answers start with it, and a JWS's
    /// `url` must be this plus the path.
    public var origin: String
    public var contentType: String?
    public var body: [UInt8]
    /// The HTTP request's id, for the audit log.
    public var requestID: String?

    public init(
        profile: String,
        method: Method,
        path: [String],
        origin: String,
        contentType: String?,
        body: [UInt8],
        requestID: String?
    ) {
        self.profile = profile
        self.method = method
        self.path = path
        self.origin = origin
        self.contentType = contentType
        self.body = body
        self.requestID = requestID
    }
}

/// The answer to an `ACMERequest`.
public struct ACMEResponse: Sendable {
    public var status: Int
    public var contentType: String?
    /// Further headers (`Location`, `Link`, `Replay-Nonce`, `Retry-After`, `Cache-Control`).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    init(status: Int, contentType: String? = nil, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }
}

/// The URLs of one ACME profile, built from the origin the client used.
struct ACMEURLs: Sendable {
    let base: String

    init(origin: String, profile: String) { base = origin + "/acme/" + profile }

    var directory: String { base + "/directory" }
    var newNonce: String { base + "/new-nonce" }
    var newAccount: String { base + "/new-account" }
    var newOrder: String { base + "/new-order" }
    var revokeCert: String { base + "/revoke-cert" }
    var keyChange: String { base + "/key-change" }
    var renewalInfo: String { base + "/renewal-info" }
    func account(_ id: String) -> String { base + "/account/" + id }
    func orders(_ account: String) -> String { base + "/account/" + account + "/orders" }
    func order(_ id: String) -> String { base + "/order/" + id }
    func finalize(_ id: String) -> String { base + "/order/" + id + "/finalize" }
    func authorization(_ id: String) -> String { base + "/authz/" + id }
    func challenge(_ authorization: String, _ type: String) -> String { base + "/chall/" + authorization + "/" + type }
    func certificate(_ serial: String) -> String { base + "/cert/" + serial }

    /// The account id of an account URL of this profile.
    func accountID(_ url: String) -> String? {
        let prefix = base + "/account/"
        guard url.hasPrefix(prefix) else { return nil }
        let id = String(url.dropFirst(prefix.count))
        return id.isEmpty || id.contains("/") ? nil : id
    }
}
