/// The `messageType` of a SCEP message (RFC 8894 section 3.2.1.2), a PrintableString of its number.
public enum SCEPMessageType: String, Sendable, CaseIterable {
    case certRep = "3"
    case renewalReq = "17"
    case pkcsReq = "19"
    case certPoll = "20"
    case getCert = "21"
    case getCRL = "22"

    /// The name RFC 8894 gives it, for logs and audit entries.
    public var name: String {
        switch self {
        case .certRep: "CertRep"
        case .renewalReq: "RenewalReq"
        case .pkcsReq: "PKCSReq"
        case .certPoll: "CertPoll"
        case .getCert: "GetCert"
        case .getCRL: "GetCRL"
        }
    }
}
