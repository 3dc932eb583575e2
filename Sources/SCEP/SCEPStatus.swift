/// A CertRep's `pkiStatus` (RFC 8894 section 3.2.1.3).
public enum SCEPStatus: String, Sendable {
    case success = "0"
    case failure = "2"
    case pending = "3"
}

/// Why a request failed: a CertRep's `failInfo` (RFC 8894 section 3.2.1.4).
public enum SCEPFailInfo: String, Sendable, CaseIterable {
    /// Unrecognized or unsupported algorithm.
    case badAlg = "0"
    /// Integrity check (meaning signature verification of the CMS message) failed.
    case badMessageCheck = "1"
    /// Transaction not permitted or supported.
    case badRequest = "2"
    /// The signingTime attribute was not close enough to the system time.
    case badTime = "3"
    /// No certificate could be identified matching the provided criteria.
    case badCertID = "4"

    public var name: String {
        switch self {
        case .badAlg: "badAlg"
        case .badMessageCheck: "badMessageCheck"
        case .badRequest: "badRequest"
        case .badTime: "badTime"
        case .badCertID: "badCertId"
        }
    }
}
