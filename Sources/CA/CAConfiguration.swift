/// How the CA names itself to relying parties and what it issues by default.
public struct CAConfiguration: Sendable, Hashable {
    /// The base URL relying parties reach Custos' public endpoints at (`http://pki.example.com`).
    /// When set, certificates carry `<base>/crl/<ca>.crl` as CRL distribution point and
    /// `<base>/ca/<ca>.crt` as CA-issuers URL, unless a policy lists its own. HTTP, not HTTPS:
    /// relying parties fetch these to check a TLS chain (RFC 5280 section 4.2.1.13).
    public var publicBaseURL: String?
    /// Tenant of CAs created without one.
    public var defaultTenant: String

    public init(publicBaseURL: String? = nil, defaultTenant: String = "default") {
        self.publicBaseURL = publicBaseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.defaultTenant = defaultTenant
    }

    func crlURL(_ ca: String) -> String? { publicBaseURL.map { "\($0)/crl/\(ca).crl" } }
    func caIssuersURL(_ ca: String) -> String? { publicBaseURL.map { "\($0)/ca/\(ca).crt" } }
}
