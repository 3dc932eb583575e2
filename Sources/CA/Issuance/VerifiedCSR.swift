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

    /// The subject alternative names a CSR asks for; refuses a request for a CA certificate.
    public static func requestedAlternativeNames(_ csr: CertificateSigningRequest) throws(CAError) -> [GeneralName] {
        let extensions: Certificate.Extensions?
        do { extensions = try csr.attributes.extensionRequest?.extensions } catch {
            throw CAError(.invalidCSR, "the CSR's extension request cannot be read: \(error)")
        }
        guard let extensions else { return [] }
        return try requestedAlternativeNames(in: extensions)
    }

    /// The subject alternative names requested extensions ask for; refuses a request for a CA
    /// certificate.
    public static func requestedAlternativeNames(in extensions: Certificate.Extensions) throws(CAError)
        -> [GeneralName]
    {
        do {
            if case .isCertificateAuthority = try extensions.basicConstraints {
                throw CAError(
                    .policyViolation,
                    "rule endEntityOnly: the request asks for a CA certificate (basicConstraints CA:true); "
                        + "subordinate CAs are created with POST /v1/cas"
                )
            }
            return Array(try extensions.subjectAlternativeNames ?? SubjectAlternativeNames())
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(.invalidCSR, "a requested extension cannot be read: \(error)")
        }
    }
}

/// A request in another form than PKCS#10 whose proof of possession a protocol has checked (a CRMF
/// CertRequest with a POP signature by the requested key, RFC 4211 section 4.1): what to certify, and
/// the request as received (kept with the certificate's pending request, never parsed by the CA).
public struct ProvenRequest: Sendable {
    public var subject: DistinguishedName
    public var publicKey: Certificate.PublicKey
    /// The subject alternative names asked for.
    public var alternativeNames: [GeneralName]
    public var der: [UInt8]

    public init(
        subject: DistinguishedName,
        publicKey: Certificate.PublicKey,
        alternativeNames: [GeneralName],
        der: [UInt8]
    ) {
        self.subject = subject
        self.publicKey = publicKey
        self.alternativeNames = alternativeNames
        self.der = der
    }
}
