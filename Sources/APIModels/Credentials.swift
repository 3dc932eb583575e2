public import Foundation

/// `POST /v1/credentials`.
public struct CreateCredentialBody: APIModel {
    /// `admin`, `signer`, `officer`, `auditor` or `vault`.
    public var role: String
    /// The keys a signer may use (names, or prefixes ending in *).
    public var keys: [String]?
    /// The vault namespaces a vault credential may use (names, or prefixes ending in *).
    public var namespaces: [String]?
    /// Limits an officer or auditor to the CAs of one tenant.
    public var tenant: String?
    /// The actions a trigger credential may run (names, or prefixes ending in *).
    public var actions: [String]?

    public init(
        role: String,
        keys: [String]? = nil,
        namespaces: [String]? = nil,
        tenant: String? = nil,
        actions: [String]? = nil
    ) {
        self.role = role
        self.keys = keys
        self.namespaces = namespaces
        self.tenant = tenant
        self.actions = actions
    }

    public static let example = CreateCredentialBody(
        role: "signer",
        keys: ["release-*"],
        namespaces: ["payments"],
        tenant: "acme",
        actions: ["qa-*"]
    )
}

/// A credential (never its secret, except once in the answer to its creation).
public struct CredentialView: APIModel {
    public var id: String
    public var role: String
    public var keys: [String]
    public var namespaces: [String]
    public var created: Date
    public var revoked: Bool
    public var tenant: String?
    /// Only in the answer to creation: the bearer secret, shown once.
    public var token: String?
    /// SHA-256 (hex) of the TLS client certificates that sign in to the web console as this credential.
    public var certificates: [String]?
    /// The actions a trigger credential may run.
    public var actions: [String]?

    public init(
        id: String,
        role: String,
        keys: [String],
        namespaces: [String],
        created: Date,
        revoked: Bool,
        tenant: String?,
        token: String?,
        certificates: [String]? = nil,
        actions: [String]? = nil
    ) {
        self.id = id
        self.role = role
        self.keys = keys
        self.namespaces = namespaces
        self.created = created
        self.revoked = revoked
        self.tenant = tenant
        self.token = token
        self.certificates = certificates
        self.actions = actions
    }

    public static let example = CredentialView(
        id: "c7d2e1",
        role: "signer",
        keys: ["release-*"],
        namespaces: [],
        created: Date(timeIntervalSince1970: 1_795_000_000),
        revoked: false,
        tenant: "acme",
        token: "cst_…",
        certificates: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        actions: ["qa-*"]
    )
}

/// `PUT /v1/credentials/{id}/certificates`: a TLS client certificate (a smartcard's) that signs in to
/// the web console as the credential.
public struct BindCertificateBody: APIModel {
    /// The certificate in PEM.
    public var certificate: String

    public init(certificate: String) { self.certificate = certificate }

    public static let example = BindCertificateBody(certificate: "-----BEGIN CERTIFICATE-----\n…")
}

/// `GET /v1/credentials`.
public struct CredentialList: APIModel {
    public var credentials: [CredentialView]

    public init(credentials: [CredentialView]) { self.credentials = credentials }

    public static let example = CredentialList(credentials: [.example])
}

/// One entry of the audit log.
public struct AuditEntryView: APIModel {
    public var sequence: UInt64
    public var time: Date
    public var actor: String
    public var action: String
    public var object: String
    public var outcome: String
    public var requestId: String?

    public init(
        sequence: UInt64,
        time: Date,
        actor: String,
        action: String,
        object: String,
        outcome: String,
        requestId: String?
    ) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.action = action
        self.object = object
        self.outcome = outcome
        self.requestId = requestId
    }

    public static let example = AuditEntryView(
        sequence: 42,
        time: Date(timeIntervalSince1970: 1_795_000_000),
        actor: "credential:c7d2e1",
        action: "key.sign",
        object: "release",
        outcome: "success",
        requestId: "7f3a"
    )
}

/// `GET /v1/audit`.
public struct AuditPage: APIModel {
    public var entries: [AuditEntryView]
    public var nextCursor: String?

    public init(entries: [AuditEntryView], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }

    public static let example = AuditPage(entries: [.example], nextCursor: "42")
}

/// `GET /v1/health` and `GET /v1/ready`.
public struct HealthStatus: APIModel {
    /// `alive` or `ready`.
    public var status: String
    /// Sessions the pool holds (readiness only).
    public var sessions: Int?
    /// The token's label (readiness only).
    public var token: String?

    public init(status: String, sessions: Int? = nil, token: String? = nil) {
        self.status = status
        self.sessions = sessions
        self.token = token
    }

    public static let example = HealthStatus(status: "ready", sessions: 4, token: "custos")
}
