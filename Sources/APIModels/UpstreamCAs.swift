/// `POST /v1/cas/upstream`: a CA elsewhere that Custos forwards requests to as its registration authority.
public struct CreateUpstreamCABody: APIModel {
    public var id: String
    public var tenant: String?
    /// The protocol spoken to it: `cmp`, `est` or `acme`.
    public var `protocol`: String
    /// Its endpoint: for CMP the full URL (`http://ca.example:8080/pkix/`), for EST the https base
    /// (`https://est.example/.well-known/est/<label>/`).
    public var url: String
    /// PEM: the upstream CA's certificate (the one that signs what it issues), then the certificates
    /// above it.
    public var certificate: String
    /// PEM: trust anchors for the upstream's signed answers (CMP) or its TLS certificate (EST); default:
    /// the top of `certificate`'s chain.
    public var responseAnchors: String?
    /// The subject of the RA's CSR; default `CN=Custos RA for <id>`.
    public var raSubject: String?
    /// The RA key's algorithm (default `ec-p256`).
    public var algorithm: String?
    /// The bound on one exchange, polling included (1 to 600, default 30).
    public var timeoutSeconds: Int?
    /// How often a request is sent while the upstream cannot be reached (1 to 10, default 3).
    public var attempts: Int?
    /// ACME external account binding: the key id the upstream gave.
    public var externalAccountKeyID: String?
    /// ACME external account binding: its MAC key, base64url. Moved into the HSM at once; never shown again.
    public var externalAccountKey: String?

    public init(
        id: String,
        tenant: String? = nil,
        protocol: String,
        url: String,
        certificate: String,
        responseAnchors: String? = nil,
        raSubject: String? = nil,
        algorithm: String? = nil,
        timeoutSeconds: Int? = nil,
        attempts: Int? = nil,
        externalAccountKeyID: String? = nil,
        externalAccountKey: String? = nil
    ) {
        self.externalAccountKeyID = externalAccountKeyID
        self.externalAccountKey = externalAccountKey
        self.id = id
        self.tenant = tenant
        self.protocol = `protocol`
        self.url = url
        self.certificate = certificate
        self.responseAnchors = responseAnchors
        self.raSubject = raSubject
        self.algorithm = algorithm
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }

    public static let example = CreateUpstreamCABody(
        id: "corporate",
        tenant: "factory",
        protocol: "cmp",
        url: "http://ca.corp.example:8080/pkix/",
        certificate: "-----BEGIN CERTIFICATE-----…",
        responseAnchors: "-----BEGIN CERTIFICATE-----…",
        raSubject: "CN=Custos RA,O=Acme",
        algorithm: "ec-p256",
        timeoutSeconds: 30,
        attempts: 3,
        externalAccountKeyID: "kid-1",
        externalAccountKey: "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
    )
}

/// How Custos reaches an upstream CA, as the API shows it.
public struct UpstreamLinkView: APIModel {
    public var `protocol`: String
    public var url: String
    /// PEM: the RA's certificate from the upstream PKI; absent while the CA is pending.
    public var raCertificate: String?
    public var timeoutSeconds: Int
    public var attempts: Int
    /// The ACME external account key id, if the link has one (its MAC key is in the HSM only).
    public var externalAccountKeyID: String?

    public init(
        protocol: String,
        url: String,
        raCertificate: String?,
        timeoutSeconds: Int,
        attempts: Int,
        externalAccountKeyID: String? = nil
    ) {
        self.externalAccountKeyID = externalAccountKeyID
        self.protocol = `protocol`
        self.url = url
        self.raCertificate = raCertificate
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }

    public static let example = UpstreamLinkView(
        protocol: "cmp",
        url: "http://ca.corp.example:8080/pkix/",
        raCertificate: "-----BEGIN CERTIFICATE-----…",
        timeoutSeconds: 30,
        attempts: 3,
        externalAccountKeyID: "kid-1"
    )
}
