/// How the CA names itself to relying parties and what it issues by default.
public struct CAConfiguration: Sendable, Hashable {
    /// The base URL relying parties reach Custos' public endpoints at (`http://pki.example.com`).
    /// When set, certificates carry `<base>/crl/<ca>.crl` as CRL distribution point and
    /// `<base>/ca/<ca>.crt` as CA-issuers URL, unless a policy lists its own. HTTP, not HTTPS:
    /// relying parties fetch these to check a TLS chain (RFC 5280 section 4.2.1.13).
    public var publicBaseURL: String?
    /// Tenant of CAs created without one.
    public var defaultTenant: String
    /// How CRLs are published.
    public var crl: CRLSchedule

    public init(publicBaseURL: String? = nil, defaultTenant: String = "default", crl: CRLSchedule = .init()) {
        self.publicBaseURL = publicBaseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.defaultTenant = defaultTenant
        self.crl = crl
    }

    /// When CRLs are issued: each CA's full and delta CRL are reissued once half their validity has
    /// passed, and `revocationDelay` after a revocation (revocations within that delay share one CRL).
    public struct CRLSchedule: Sendable, Hashable {
        /// nextUpdate − thisUpdate of full CRLs.
        public var validity: Duration
        /// nextUpdate − thisUpdate of delta CRLs.
        public var deltaValidity: Duration
        public var revocationDelay: Duration

        public init(
            validity: Duration = .seconds(86_400),
            deltaValidity: Duration = .seconds(3_600),
            revocationDelay: Duration = .seconds(2)
        ) {
            self.validity = validity
            self.deltaValidity = deltaValidity
            self.revocationDelay = revocationDelay
        }
    }

    func crlURL(_ ca: String) -> String? { publicBaseURL.map { "\($0)/crl/\(ca).crl" } }
    func caIssuersURL(_ ca: String) -> String? { publicBaseURL.map { "\($0)/ca/\(ca).crt" } }
    func deltaCRLURL(_ ca: String) -> String? { publicBaseURL.map { "\($0)/crl/\(ca).delta.crl" } }
    /// The OCSP responder's URL (one for every CA: the CertID says which).
    var ocspURL: String? { publicBaseURL.map { "\($0)/ocsp" } }
}
