public import Foundation

/// The ACME part of an enrollment profile (`acme`), required when its protocols include `acme`.
public struct EnrollmentACMEBody: APIModel {
    /// DNS names that may be certified: each allows itself and the names below it; `.` allows all.
    public var allowedDomains: [String]?
    /// CIDR ranges whose addresses may be certified.
    public var allowedIPRanges: [String]?
    /// Whether `*.name` may be ordered (dns-01 only). Default: true.
    public var allowWildcards: Bool?
    /// Of `http-01`, `dns-01`, `tls-alpn-01`. Default: all three.
    public var challenges: [String]?
    /// URL of terms clients must agree to.
    public var termsOfService: String?
    /// Whether new accounts must bring an external account binding. Default: false.
    public var externalAccountRequired: Bool?
    /// New orders per account per hour. Default: 300.
    public var ordersPerAccountPerHour: Int?
    /// Orders naming one identifier per week, over all accounts. Default: no limit.
    public var ordersPerIdentifierPerWeek: Int?
    /// Hours a new order and its authorizations wait for the client. Default: 24.
    public var pendingHours: Int?
    /// Days a valid authorization proves its name for further orders. Default: 30.
    public var validAuthorizationDays: Int?

    public init(
        allowedDomains: [String]? = nil,
        allowedIPRanges: [String]? = nil,
        allowWildcards: Bool? = nil,
        challenges: [String]? = nil,
        termsOfService: String? = nil,
        externalAccountRequired: Bool? = nil,
        ordersPerAccountPerHour: Int? = nil,
        ordersPerIdentifierPerWeek: Int? = nil,
        pendingHours: Int? = nil,
        validAuthorizationDays: Int? = nil
    ) {
        self.allowedDomains = allowedDomains
        self.allowedIPRanges = allowedIPRanges
        self.allowWildcards = allowWildcards
        self.challenges = challenges
        self.termsOfService = termsOfService
        self.externalAccountRequired = externalAccountRequired
        self.ordersPerAccountPerHour = ordersPerAccountPerHour
        self.ordersPerIdentifierPerWeek = ordersPerIdentifierPerWeek
        self.pendingHours = pendingHours
        self.validAuthorizationDays = validAuthorizationDays
    }

    public static let example = EnrollmentACMEBody(
        allowedDomains: ["internal.example.com"],
        allowedIPRanges: ["10.0.0.0/8"],
        allowWildcards: true,
        challenges: ["http-01", "dns-01", "tls-alpn-01"],
        termsOfService: "https://pki.example.com/terms",
        externalAccountRequired: true,
        ordersPerAccountPerHour: 300,
        ordersPerIdentifierPerWeek: 50,
        pendingHours: 24,
        validAuthorizationDays: 30
    )
}

/// An ACME account of a profile.
public struct ACMEAccountView: APIModel {
    public var id: String
    public var profile: String
    /// `valid`, `deactivated` or `revoked`.
    public var status: String
    public var contacts: [String]
    /// RFC 7638 thumbprint of the account key.
    public var keyThumbprint: String
    public var created: Date
    public var updated: Date

    public init(
        id: String,
        profile: String,
        status: String,
        contacts: [String],
        keyThumbprint: String,
        created: Date,
        updated: Date
    ) {
        self.id = id
        self.profile = profile
        self.status = status
        self.contacts = contacts
        self.keyThumbprint = keyThumbprint
        self.created = created
        self.updated = updated
    }

    public static let example = ACMEAccountView(
        id: "5f0c3a9e1d2b4c6a8e7f9012",
        profile: "web",
        status: "valid",
        contacts: ["mailto:ops@example.com"],
        keyThumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
        created: Date(timeIntervalSince1970: 1_790_000_000),
        updated: Date(timeIntervalSince1970: 1_790_000_000)
    )
}

/// `GET /v1/enrollment/profiles/{profile}/acme/accounts`.
public struct ACMEAccountPage: APIModel {
    public var accounts: [ACMEAccountView]
    /// The cursor for the next page (`after`), absent on the last.
    public var next: String?

    public init(accounts: [ACMEAccountView], next: String?) {
        self.accounts = accounts
        self.next = next
    }

    public static let example = ACMEAccountPage(accounts: [.example], next: "5f0c3a9e1d2b4c6a8e7f9012")
}

/// An ACME order.
public struct ACMEOrderView: APIModel {
    public var id: String
    public var account: String
    /// `pending`, `ready`, `processing`, `valid` or `invalid`.
    public var status: String
    /// `dns:<name>` or `ip:<address>`.
    public var identifiers: [String]
    public var expires: Date
    /// The issued certificate's serial (hex).
    public var serial: String?
    /// Why the order is invalid.
    public var error: String?
    public var created: Date

    public init(
        id: String,
        account: String,
        status: String,
        identifiers: [String],
        expires: Date,
        serial: String?,
        error: String?,
        created: Date
    ) {
        self.id = id
        self.account = account
        self.status = status
        self.identifiers = identifiers
        self.expires = expires
        self.serial = serial
        self.error = error
        self.created = created
    }

    public static let example = ACMEOrderView(
        id: "9a8b7c6d5e4f30211a2b3c4d",
        account: "5f0c3a9e1d2b4c6a8e7f9012",
        status: "valid",
        identifiers: ["dns:www.internal.example.com"],
        expires: Date(timeIntervalSince1970: 1_790_086_400),
        serial: "4f1c0a2b3c4d5e6f",
        error: "urn:ietf:params:acme:error:unauthorized: …",
        created: Date(timeIntervalSince1970: 1_790_000_000)
    )
}

/// `GET /v1/enrollment/profiles/{profile}/acme/accounts/{account}/orders`.
public struct ACMEOrderList: APIModel {
    public var orders: [ACMEOrderView]

    public init(orders: [ACMEOrderView]) { self.orders = orders }

    public static let example = ACMEOrderList(orders: [.example])
}

/// `POST /v1/enrollment/profiles/{profile}/acme/external-keys`.
public struct ACMEExternalKeyBody: APIModel {
    /// Who the key is for (a team, a cluster), up to 128 bytes.
    public var label: String?

    public init(label: String? = nil) { self.label = label }

    public static let example = ACMEExternalKeyBody(label: "platform team")
}

/// An external account binding key: `hmacKey` only in the answer to its creation.
public struct ACMEExternalKeyView: APIModel {
    /// The key identifier the ACME client sends (`--eab-kid`).
    public var id: String
    public var profile: String
    public var label: String?
    public var created: Date
    /// The account the key was bound to.
    public var account: String?
    /// The HMAC-SHA-256 key, base64url (`--eab-hmac-key`); shown once.
    public var hmacKey: String?

    public init(id: String, profile: String, label: String?, created: Date, account: String?, hmacKey: String?) {
        self.id = id
        self.profile = profile
        self.label = label
        self.created = created
        self.account = account
        self.hmacKey = hmacKey
    }

    public static let example = ACMEExternalKeyView(
        id: "kQ3xV0Jm2aD8pL1s",
        profile: "web",
        label: "platform team",
        created: Date(timeIntervalSince1970: 1_790_000_000),
        account: "5f0c3a9e1d2b4c6a8e7f9012",
        hmacKey: "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
    )
}

/// `GET /v1/enrollment/profiles/{profile}/acme/external-keys`.
public struct ACMEExternalKeyList: APIModel {
    public var keys: [ACMEExternalKeyView]

    public init(keys: [ACMEExternalKeyView]) { self.keys = keys }

    public static let example = ACMEExternalKeyList(keys: [.example])
}
