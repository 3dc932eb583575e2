public import Foundation

/// An issued certificate as the API shows it.
public struct CertificateView: APIModel {
    /// The issuing CA's id.
    public var ca: String
    /// Hex.
    public var serial: String
    public var subject: String
    /// `dns:`, `ip:`, `email:` and `uri:` names.
    public var alternativeNames: [String]
    public var category: String
    /// `valid` or `revoked`.
    public var status: String
    public var notBefore: Date
    public var notAfter: Date
    public var metadata: [String: String]
    /// PEM.
    public var certificate: String
    /// PEM, issuing CA first; in answers to issuance only.
    public var chain: [String]?

    public init(
        ca: String,
        serial: String,
        subject: String,
        alternativeNames: [String],
        category: String,
        status: String,
        notBefore: Date,
        notAfter: Date,
        metadata: [String: String],
        certificate: String,
        chain: [String]?
    ) {
        self.ca = ca
        self.serial = serial
        self.subject = subject
        self.alternativeNames = alternativeNames
        self.category = category
        self.status = status
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.metadata = metadata
        self.certificate = certificate
        self.chain = chain
    }

    public static let example = CertificateView(
        ca: "issuing",
        serial: "4a1b2c",
        subject: "CN=device-7,O=Acme",
        alternativeNames: ["dns:device-7.example"],
        category: "device",
        status: "valid",
        notBefore: Date(timeIntervalSince1970: 1_795_000_000),
        notAfter: Date(timeIntervalSince1970: 1_826_536_000),
        metadata: ["line": "3"],
        certificate: "-----BEGIN CERTIFICATE-----…",
        chain: ["-----BEGIN CERTIFICATE-----…"]
    )
}

/// `POST /v1/cas/{ca}/certificates/{serial}/renew`.
public struct RenewCertificateBody: APIModel {
    /// PEM `CERTIFICATE REQUEST` for a new key; absent: the same key again.
    public var csr: String?
    public var validityDays: Int?

    public init(csr: String? = nil, validityDays: Int? = nil) {
        self.csr = csr
        self.validityDays = validityDays
    }

    public static let example = RenewCertificateBody(csr: "-----BEGIN CERTIFICATE REQUEST-----…", validityDays: 365)
}

/// `POST /v1/cas/{ca}/certificates/{serial}/revoke`.
public struct RevokeBody: APIModel {
    /// RFC 5280 name; default `unspecified`.
    public var reason: String?
    /// When the key is known or suspected to have been compromised.
    public var invalidityDate: Date?

    public init(reason: String? = nil, invalidityDate: Date? = nil) {
        self.reason = reason
        self.invalidityDate = invalidityDate
    }

    public static let example = RevokeBody(
        reason: "keyCompromise",
        invalidityDate: Date(timeIntervalSince1970: 1_795_000_000)
    )
}

/// `POST /v1/cas/{ca}/certificates`: a PEM CSR and what the certificate is for.
public struct IssueBody: APIModel, Equatable {
    /// PEM `CERTIFICATE REQUEST`.
    public var csr: String
    /// `tls-server`, `tls-client`, `device`, `user`, `code-signing`, `ocsp-signing` or
    /// `registration-authority`.
    public var category: String
    public var validityDays: Int?
    public var metadata: [String: String]?

    public init(csr: String, category: String, validityDays: Int? = nil, metadata: [String: String]? = nil) {
        self.csr = csr
        self.category = category
        self.validityDays = validityDays
        self.metadata = metadata
    }

    public static let example = IssueBody(
        csr: "-----BEGIN CERTIFICATE REQUEST-----…",
        category: "device",
        validityDays: 365,
        metadata: ["line": "3"]
    )
}

/// `POST /v1/cas/{ca}/certificates/batch`: up to the batch limit of requests, issued together.
public struct IssueBatchBody: APIModel {
    public var requests: [IssueBody]

    public init(requests: [IssueBody]) { self.requests = requests }

    public static let example = IssueBatchBody(requests: [.example])
}
