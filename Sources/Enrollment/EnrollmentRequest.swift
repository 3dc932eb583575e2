public import CA
public import MetadataStore

/// A certificate request that came through a protocol.
public struct EnrollmentRequest: Sendable {
    public enum Operation: String, Sendable {
        /// A first certificate (EST simpleenroll, SCEP PKCSReq).
        case enroll
        /// A renewal, authenticated by the certificate being renewed (EST simplereenroll, SCEP RenewalReq).
        case reenroll
    }

    public var profile: String
    public var protocolName: EnrollmentProfile.EnrollmentProtocol
    public var operation: Operation
    /// The PKCS#10 request in DER; with `proven`, that request's DER (a CRMF CertRequest).
    public var csr: [UInt8]
    /// Set only by a protocol that checked the proof of possession of a request that is not PKCS#10
    /// (CMP's ir, cr and kur).
    public var proven: ProvenRequest?
    public var credentials: ClientCredentials
    /// A protocol's transaction id (SCEP's transactionID).
    public var transaction: String?
    /// For a re-enrollment whose client did not present the certificate it renews (the portal): that
    /// certificate, which the caller found issued to this client under this profile.
    public var renewing: CertificateRecord?
    /// The HTTP request's id, for the audit log.
    public var requestID: String?
    /// Runs in the transaction that stores the certificate or the held request (a protocol records its
    /// own state with it, as CMP its transaction); if it throws, nothing is stored.
    public var alsoWrite: (@Sendable (any MetadataWriting, EnrollmentStored) throws -> Void)?

    public init(
        profile: String,
        protocolName: EnrollmentProfile.EnrollmentProtocol,
        operation: Operation,
        csr: [UInt8],
        credentials: ClientCredentials,
        transaction: String? = nil,
        requestID: String? = nil,
        proven: ProvenRequest? = nil
    ) {
        self.proven = proven
        self.profile = profile
        self.protocolName = protocolName
        self.operation = operation
        self.csr = csr
        self.credentials = credentials
        self.transaction = transaction
        self.requestID = requestID
    }
}

/// What an enrollment stored: a certificate, or a request held for an officer.
public enum EnrollmentStored: Sendable {
    case issued(CertificateRecord)
    case held(EnrollmentRequestRecord)
}

/// What became of an enrollment.
public enum EnrollmentOutcome: Sendable {
    /// Issued now or earlier (a poll after approval): the certificate's record and the chain above it
    /// (issuing CA first) in DER.
    case issued(CertificateRecord, chain: [[UInt8]])
    /// Waiting for an officer; the client asks again later.
    case pending(EnrollmentRequestRecord)
}
