public import Foundation

/// `PATCH /v1/cas/{ca}/certificates/{serial}/metadata`.
public struct CertificateMetadataBody: APIModel {
    /// Pairs to set; a null value removes the pair.
    public var metadata: [String: String?]

    public init(metadata: [String: String?]) { self.metadata = metadata }

    public static let example = CertificateMetadataBody(metadata: ["line": "4"])
}

/// `GET /v1/certificates`: one page of a search.
public struct CertificatePage: APIModel {
    public var certificates: [CertificateView]
    public var nextCursor: String?

    public init(certificates: [CertificateView], nextCursor: String?) {
        self.certificates = certificates
        self.nextCursor = nextCursor
    }

    public static let example = CertificatePage(certificates: [.example], nextCursor: "issuing/4a1b2c")
}

/// `GET /v1/reports/expiring`.
public struct CertificateExpiringAnswer: APIModel {
    public var days: Int
    public var certificates: [CertificateView]

    public init(days: Int, certificates: [CertificateView]) {
        self.days = days
        self.certificates = certificates
    }

    public static let example = CertificateExpiringAnswer(days: 30, certificates: [.example])
}

/// Certificates of one CA, category and status.
public struct ReportCount: APIModel, Hashable {
    public var ca: String
    public var category: String
    /// `valid`, `revoked` or `expired` (valid but past notAfter).
    public var status: String
    public var count: Int

    public init(ca: String, category: String, status: String, count: Int) {
        self.ca = ca
        self.category = category
        self.status = status
        self.count = count
    }

    public static let example = ReportCount(ca: "issuing", category: "device", status: "valid", count: 1200)
}

/// `GET /v1/reports/summary`.
public struct CertificateSummaryAnswer: APIModel {
    public var counts: [ReportCount]

    public init(counts: [ReportCount]) { self.counts = counts }

    public static let example = CertificateSummaryAnswer(counts: [.example])
}

/// `POST /v1/cas/{ca}/revocations`: revokes every certificate of the CA that the filter matches.
public struct BulkRevokeBody: APIModel {
    public var filter: BulkRevokeFilter
    /// RFC 5280 name; default `unspecified`.
    public var reason: String?
    public var invalidityDate: Date?

    public init(filter: BulkRevokeFilter, reason: String? = nil, invalidityDate: Date? = nil) {
        self.filter = filter
        self.reason = reason
        self.invalidityDate = invalidityDate
    }

    public static let example = BulkRevokeBody(
        filter: .example,
        reason: "keyCompromise",
        invalidityDate: Date(timeIntervalSince1970: 1_795_000_000)
    )
}

/// Which certificates a bulk revocation takes; at least one condition.
public struct BulkRevokeFilter: APIModel {
    public var metadata: [String: String]?
    /// Text searched in subjects and names.
    public var q: String?
    public var category: String?
    public var serial: String?
    public var expiresBefore: Date?
    public var expiresAfter: Date?

    public init(
        metadata: [String: String]? = nil,
        q: String? = nil,
        category: String? = nil,
        serial: String? = nil,
        expiresBefore: Date? = nil,
        expiresAfter: Date? = nil
    ) {
        self.metadata = metadata
        self.q = q
        self.category = category
        self.serial = serial
        self.expiresBefore = expiresBefore
        self.expiresAfter = expiresAfter
    }

    public static let example = BulkRevokeFilter(
        metadata: ["line": "3"],
        q: "device-7",
        category: "device",
        serial: "4a1b2c",
        expiresBefore: Date(timeIntervalSince1970: 1_826_536_000),
        expiresAfter: Date(timeIntervalSince1970: 1_795_000_000)
    )
}

/// What a bulk revocation revoked.
public struct BulkRevokeAnswer: APIModel {
    public var revoked: Int
    /// Hex.
    public var serials: [String]

    public init(revoked: Int, serials: [String]) {
        self.revoked = revoked
        self.serials = serials
    }

    public static let example = BulkRevokeAnswer(revoked: 1, serials: ["4a1b2c"])
}
