public import X509

/// A PKCS#10 request whose signature the CA has checked (`CertificateAuthority.verify(csr:)`): only the
/// CA makes one, so a caller that needs the parsed request first (enrollment reads its subject and key)
/// hands it back to issuance without the signature being verified twice.
public struct VerifiedCSR: Sendable {
    public let request: CertificateSigningRequest
    /// The request in DER, as received.
    public let der: [UInt8]

    init(request: CertificateSigningRequest, der: [UInt8]) {
        self.request = request
        self.der = der
    }
}

extension CertificateAuthority {
    /// Parses and checks a request as issuance does (`parseCSR`), keeping the result for `IssueRequest`.
    public static func verify(csr der: [UInt8]) throws(CAError) -> VerifiedCSR {
        VerifiedCSR(request: try parseCSR(der), der: der)
    }
}
