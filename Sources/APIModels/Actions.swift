/// A bulk revocation an external system may set off: every valid certificate of `ca` whose metadata
/// has all of `metadata`, where `{name}` in a value stands for the run's parameter `name`.
public struct RevokeActionBody: APIModel, Hashable {
    public var ca: String
    /// An RFC 5280 reason name (`keyCompromise`, `superseded`, …).
    public var reason: String
    /// At least one pair; values may hold `{parameter}` placeholders.
    public var metadata: [String: String]
    /// The parameters a run must give (exactly these), each named in some value.
    public var parameters: [String]?
    /// A run that matches more certificates revokes none (1 to 100,000; 1,000 when absent).
    public var maxCertificates: Int?

    public init(
        ca: String,
        reason: String,
        metadata: [String: String],
        parameters: [String]? = nil,
        maxCertificates: Int? = nil
    ) {
        self.ca = ca
        self.reason = reason
        self.metadata = metadata
        self.parameters = parameters
        self.maxCertificates = maxCertificates
    }

    public static let example = RevokeActionBody(
        ca: "line",
        reason: "keyCompromise",
        metadata: ["batch": "{batch}", "line": "4"],
        parameters: ["batch"],
        maxCertificates: 1000
    )
}

/// `PUT /v1/actions/{name}`: a triggered action (today one kind: `revoke`).
public struct ActionBody: APIModel, Hashable {
    /// Set from the path in a PUT; present in answers.
    public var name: String?
    /// The tenant of its CA (in answers).
    public var tenant: String?
    public var revoke: RevokeActionBody

    public init(name: String? = nil, tenant: String? = nil, revoke: RevokeActionBody) {
        self.name = name
        self.tenant = tenant
        self.revoke = revoke
    }

    public static let example = ActionBody(name: "qa-failed-batch", tenant: "acme", revoke: .example)
}

/// `GET /v1/actions`.
public struct ActionList: APIModel {
    public var actions: [ActionBody]
    public init(actions: [ActionBody]) { self.actions = actions }
    public static let example = ActionList(actions: [.example])
}

/// `POST /v1/actions/{name}/run`.
public struct RunActionBody: APIModel, Hashable {
    /// A value for each of the action's parameters.
    public var parameters: [String: String]?
    /// Only count what would be revoked.
    public var dryRun: Bool?

    public init(parameters: [String: String]? = nil, dryRun: Bool? = nil) {
        self.parameters = parameters
        self.dryRun = dryRun
    }

    public static let example = RunActionBody(parameters: ["batch": "2026-12-06-A"], dryRun: false)
}

/// What a run did.
public struct ActionRunView: APIModel, Hashable {
    public var action: String
    /// Valid certificates that matched.
    public var matched: Int
    /// Serials (hex) revoked; empty for a dry run.
    public var revoked: [String]
    public var dryRun: Bool

    public init(action: String, matched: Int, revoked: [String], dryRun: Bool) {
        self.action = action
        self.matched = matched
        self.revoked = revoked
        self.dryRun = dryRun
    }

    public static let example = ActionRunView(
        action: "qa-failed-batch",
        matched: 2,
        revoked: ["0a1b", "0a1c"],
        dryRun: false
    )
}
