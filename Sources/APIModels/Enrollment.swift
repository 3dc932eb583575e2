public import Foundation

/// How an enrollment profile's clients authenticate (`authentication` of a profile).
public struct EnrollmentAuthenticationBody: APIModel {
    /// The profile's shared password (made with `POST …/password`) as EST Basic or SCEP challenge password.
    public var sharedPassword: Bool?
    /// One-time passwords for single devices (`POST …/one-time-passwords`). Default: true.
    public var oneTimePasswords: Bool?
    /// PEM certificates that TLS client certificates may chain to for a first enrollment (IDevID roots
    /// or the CAs that issue them).
    public var clientCertificateAnchors: [String]?

    public init(sharedPassword: Bool? = nil, oneTimePasswords: Bool? = nil, clientCertificateAnchors: [String]? = nil) {
        self.sharedPassword = sharedPassword
        self.oneTimePasswords = oneTimePasswords
        self.clientCertificateAnchors = clientCertificateAnchors
    }

    public static let example = EnrollmentAuthenticationBody(
        sharedPassword: false,
        oneTimePasswords: true,
        clientCertificateAnchors: ["-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----"]
    )
}

/// When a profile's certificates may be renewed by their holders.
public struct EnrollmentRenewalBody: APIModel {
    /// Renewal opens this many days before expiry; absent: any time while valid.
    public var windowDays: Int?
    /// Whether a renewal may certify the same key again. Default: true.
    public var allowSameKey: Bool?

    public init(windowDays: Int? = nil, allowSameKey: Bool? = nil) {
        self.windowDays = windowDays
        self.allowSameKey = allowSameKey
    }

    public static let example = EnrollmentRenewalBody(windowDays: 30, allowSameKey: false)
}

/// `POST /v1/enrollment/profiles` and `PUT /v1/enrollment/profiles/{profile}`.
public struct EnrollmentProfileBody: APIModel {
    /// The profile's name (`a-z 0-9 -`); `default` also answers `/.well-known/est/`. Taken from the
    /// path on PUT.
    public var id: String?
    public var ca: String
    public var category: String
    public var validityDays: Int?
    /// RFC 4514 text with `{CN}`, `{SERIALNUMBER}`, … standing for the request's values and
    /// `{CLIENT.CN}`, … for those of the client's certificate.
    public var subjectTemplate: String?
    /// `est`, `scep`, `acme`, `cmp`. Default: est and scep.
    public var protocols: [String]?
    public var authentication: EnrollmentAuthenticationBody?
    /// `automatic` (default) or `manual`.
    public var approval: String?
    public var renewal: EnrollmentRenewalBody?
    public var description: String?
    /// What ACME may order; required when `protocols` has `acme`.
    public var acme: EnrollmentACMEBody?
    /// How CMP answers (defaults when absent).
    public var cmp: EnrollmentCMPBody?
    /// For a profile of an upstream CA: `fail` (default), or `hold` the request while that CA cannot be
    /// reached and send it again in the background.
    public var whenUpstreamUnavailable: String?

    public init(
        id: String?,
        ca: String,
        category: String,
        validityDays: Int? = nil,
        subjectTemplate: String? = nil,
        protocols: [String]? = nil,
        authentication: EnrollmentAuthenticationBody? = nil,
        approval: String? = nil,
        renewal: EnrollmentRenewalBody? = nil,
        description: String? = nil,
        acme: EnrollmentACMEBody? = nil,
        cmp: EnrollmentCMPBody? = nil,
        whenUpstreamUnavailable: String? = nil
    ) {
        self.whenUpstreamUnavailable = whenUpstreamUnavailable
        self.cmp = cmp
        self.id = id
        self.ca = ca
        self.category = category
        self.validityDays = validityDays
        self.subjectTemplate = subjectTemplate
        self.protocols = protocols
        self.authentication = authentication
        self.approval = approval
        self.renewal = renewal
        self.description = description
        self.acme = acme
    }

    public static let example = EnrollmentProfileBody(
        id: "line-3",
        ca: "devices",
        category: "device",
        validityDays: 365,
        subjectTemplate: "CN={SERIALNUMBER},OU=Line 3,O=Acme",
        protocols: ["est", "scep"],
        authentication: .example,
        approval: "automatic",
        renewal: .example,
        description: "Controllers built on line 3",
        acme: .example,
        cmp: .example,
        whenUpstreamUnavailable: "fail"
    )
}

/// An enrollment profile as stored, with its endpoints.
public struct EnrollmentProfileView: APIModel {
    public var id: String
    public var ca: String
    public var category: String
    public var validityDays: Int?
    public var subjectTemplate: String?
    public var protocols: [String]
    public var authentication: EnrollmentAuthenticationBody
    public var approval: String
    public var renewal: EnrollmentRenewalBody
    public var description: String?
    public var acme: EnrollmentACMEBody?
    public var cmp: EnrollmentCMPBody?
    /// `fail` or `hold` (see `EnrollmentProfileBody`).
    public var whenUpstreamUnavailable: String
    /// Paths the profile answers on (`/.well-known/est/<id>/`, `/scep/<id>`, `/acme/<id>/directory`,
    /// `/.well-known/cmp/p/<id>`).
    public var endpoints: [String]

    public init(
        id: String,
        ca: String,
        category: String,
        validityDays: Int?,
        subjectTemplate: String?,
        protocols: [String],
        authentication: EnrollmentAuthenticationBody,
        approval: String,
        renewal: EnrollmentRenewalBody,
        description: String?,
        acme: EnrollmentACMEBody? = nil,
        cmp: EnrollmentCMPBody? = nil,
        whenUpstreamUnavailable: String = "fail",
        endpoints: [String]
    ) {
        self.whenUpstreamUnavailable = whenUpstreamUnavailable
        self.cmp = cmp
        self.id = id
        self.ca = ca
        self.category = category
        self.validityDays = validityDays
        self.subjectTemplate = subjectTemplate
        self.protocols = protocols
        self.authentication = authentication
        self.approval = approval
        self.renewal = renewal
        self.description = description
        self.acme = acme
        self.endpoints = endpoints
    }

    public static let example = EnrollmentProfileView(
        id: "line-3",
        ca: "devices",
        category: "device",
        validityDays: 365,
        subjectTemplate: "CN={SERIALNUMBER},OU=Line 3,O=Acme",
        protocols: ["est", "scep"],
        authentication: .example,
        approval: "automatic",
        renewal: .example,
        description: "Controllers built on line 3",
        acme: .example,
        cmp: .example,
        whenUpstreamUnavailable: "fail",
        endpoints: ["/.well-known/est/line-3/", "/scep/line-3"]
    )
}

/// `GET /v1/enrollment/profiles`.
public struct EnrollmentProfilePage: APIModel {
    public var profiles: [EnrollmentProfileView]
    /// The cursor for the next page (`after`), absent on the last.
    public var next: String?

    public init(profiles: [EnrollmentProfileView], next: String?) {
        self.profiles = profiles
        self.next = next
    }

    public static let example = EnrollmentProfilePage(profiles: [.example], next: "line-3")
}

/// `POST /v1/enrollment/profiles/{profile}/one-time-passwords`.
public struct OneTimePasswordBody: APIModel {
    /// Who it is for (a device name or serial number), up to 128 characters.
    public var label: String?
    /// Hours until it expires, 1 to 8760. Default: 72.
    public var validHours: Int?

    public init(label: String? = nil, validHours: Int? = nil) {
        self.label = label
        self.validHours = validHours
    }

    public static let example = OneTimePasswordBody(label: "PLC 4711", validHours: 72)
}

/// An enrollment secret (a shared or one-time password); `secret` only in the answer to its creation.
public struct EnrollmentSecretView: APIModel {
    public var id: String
    public var profile: String
    /// `shared` or `one-time`.
    public var kind: String
    public var label: String?
    public var created: Date
    public var expires: Date?
    public var used: Date?
    /// Shown once, when made.
    public var secret: String?

    public init(
        id: String,
        profile: String,
        kind: String,
        label: String?,
        created: Date,
        expires: Date?,
        used: Date?,
        secret: String?
    ) {
        self.id = id
        self.profile = profile
        self.kind = kind
        self.label = label
        self.created = created
        self.expires = expires
        self.used = used
        self.secret = secret
    }

    public static let example = EnrollmentSecretView(
        id: "5e0c1a9d2b7f4e61",
        profile: "line-3",
        kind: "one-time",
        label: "PLC 4711",
        created: Date(timeIntervalSince1970: 1_795_000_000),
        expires: Date(timeIntervalSince1970: 1_795_259_200),
        used: Date(timeIntervalSince1970: 1_795_003_600),
        secret: "k3m7qa-x2vbnd-p4ztre-h6wyus"
    )
}

/// `GET /v1/enrollment/profiles/{profile}/one-time-passwords`.
public struct EnrollmentSecretList: APIModel {
    public var secrets: [EnrollmentSecretView]

    public init(secrets: [EnrollmentSecretView]) { self.secrets = secrets }

    public static let example = EnrollmentSecretList(secrets: [.example])
}

/// A certificate request that came through a protocol and waits for, or got, an officer's decision.
public struct EnrollmentRequestView: APIModel {
    public var id: String
    public var profile: String
    /// `est`, `scep`.
    public var `protocol`: String
    /// How the client authenticated.
    public var client: String
    /// The subject the request asks for.
    public var subject: String
    /// `pending`, `issued` or `rejected`.
    public var state: String
    public var created: Date
    /// The serial (hex) of the certificate a re-enrollment renews.
    public var renews: String?
    public var decidedBy: String?
    public var decided: Date?
    public var reason: String?
    /// The issued certificate's serial (hex) at the profile's CA.
    public var serial: String?
    /// The request in PEM.
    public var csr: String
    /// Held because the profile's upstream CA could not be reached (sent again in the background), not
    /// for an officer.
    public var awaitingUpstream: Bool
    /// Why the last attempt to reach the upstream CA failed.
    public var upstreamError: String?

    public init(
        id: String,
        protocol: String,
        profile: String,
        client: String,
        subject: String,
        state: String,
        created: Date,
        renews: String?,
        decidedBy: String?,
        decided: Date?,
        reason: String?,
        serial: String?,
        csr: String,
        awaitingUpstream: Bool = false,
        upstreamError: String? = nil
    ) {
        self.awaitingUpstream = awaitingUpstream
        self.upstreamError = upstreamError
        self.id = id
        self.protocol = `protocol`
        self.profile = profile
        self.client = client
        self.subject = subject
        self.state = state
        self.created = created
        self.renews = renews
        self.decidedBy = decidedBy
        self.decided = decided
        self.reason = reason
        self.serial = serial
        self.csr = csr
    }

    public static let example = EnrollmentRequestView(
        id: "9a41c07e55d2b3f8",
        protocol: "est",
        profile: "line-3",
        client: "one-time/5e0c1a9d2b7f4e61 (PLC 4711)",
        subject: "CN=PLC 4711,O=Acme",
        state: "issued",
        created: Date(timeIntervalSince1970: 1_795_003_600),
        renews: "4f1c",
        decidedBy: "credential/0b6f1e2a",
        decided: Date(timeIntervalSince1970: 1_795_004_000),
        reason: "not on the build list",
        serial: "1a2b3c",
        csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIIB…\n-----END CERTIFICATE REQUEST-----",
        awaitingUpstream: false,
        upstreamError: "upstream CA corporate … gave no usable answer after 3 attempt(s): …"
    )
}

/// `GET /v1/enrollment/requests`.
public struct EnrollmentRequestPage: APIModel {
    public var requests: [EnrollmentRequestView]
    public var next: String?

    public init(requests: [EnrollmentRequestView], next: String?) {
        self.requests = requests
        self.next = next
    }

    public static let example = EnrollmentRequestPage(requests: [.example], next: "9a41c07e55d2b3f8")
}

/// `POST /v1/enrollment/requests/{request}/reject`.
public struct RejectEnrollmentBody: APIModel {
    /// Told to the client when it polls, up to 512 bytes.
    public var reason: String?

    public init(reason: String? = nil) { self.reason = reason }

    public static let example = RejectEnrollmentBody(reason: "not on the build list")
}

/// How a profile answers CMP (RFC 9483); absent fields take their defaults.
public struct EnrollmentCMPBody: APIModel {
    /// Grant implicit confirmation when a request asks for it. Default true.
    public var implicitConfirm: Bool?
    /// How far a request's messageTime may be from the server's clock, in seconds. Default 600.
    public var messageTimeSkewSeconds: Int?
    /// The checkAfter of a pollRep while a request waits for an officer, in seconds. Default 60.
    public var checkAfterSeconds: Int?
    /// How long a certConf is awaited, in seconds. Default 600.
    public var confirmWaitSeconds: Int?

    public init(
        implicitConfirm: Bool? = nil,
        messageTimeSkewSeconds: Int? = nil,
        checkAfterSeconds: Int? = nil,
        confirmWaitSeconds: Int? = nil
    ) {
        self.implicitConfirm = implicitConfirm
        self.messageTimeSkewSeconds = messageTimeSkewSeconds
        self.checkAfterSeconds = checkAfterSeconds
        self.confirmWaitSeconds = confirmWaitSeconds
    }

    public static let example = EnrollmentCMPBody(
        implicitConfirm: true,
        messageTimeSkewSeconds: 600,
        checkAfterSeconds: 60,
        confirmWaitSeconds: 600
    )
}
