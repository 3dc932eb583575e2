public import Foundation
public import MetadataStore
public import Signing
public import X509

/// Speaks one protocol to CAs whose keys are elsewhere (`CARecord.Kind.upstream`). Custos checks a
/// request against its own policy first; a connector only carries it to the upstream CA and brings back
/// what that CA answered. A connector bounds every exchange by the link's `timeoutSeconds`, sends again
/// (up to `attempts` times) only when the upstream could not be reached or answered something unreadable,
/// and throws `upstreamRefused` for a definite refusal and `upstreamUnavailable` otherwise.
public protocol UpstreamConnector: Sendable {
    /// Asks the upstream CA to certify the request's key; returns what it issued.
    func enroll(_ request: UpstreamEnrollment) async throws(CAError) -> UpstreamCertificate
    /// Asks the upstream CA to revoke one of its certificates.
    func revoke(_ request: UpstreamRevocation) async throws(CAError)
}

/// The upstream CA a request goes to and the registration authority that signs it.
public struct UpstreamTarget: Sendable {
    /// The CA record's id in Custos.
    public let ca: String
    public let link: UpstreamLink
    /// The upstream CA's certificate (it issues what the connector brings back).
    public let caCertificate: Certificate
    /// The RA's key in the HSM.
    public let raKey: HSMPrivateKey
    /// The RA's certificate (DER; nil for ACME, whose account key needs none) and the certificates above
    /// it (DER, issuer first).
    public let raCertificate: [UInt8]?
    public let raChain: [[UInt8]]
    /// Where the answer must come by (the link's timeout from the start of the exchange; a connector that
    /// must undo what the upstream did, such as revoking a refused certificate, gives that its own).
    public var deadline: Date
}

/// A request checked by Custos, to be certified by an upstream CA.
public struct UpstreamEnrollment: Sendable {
    public let target: UpstreamTarget
    public let subject: DistinguishedName
    /// The requested key as SubjectPublicKeyInfo DER.
    public let publicKeyInfo: [UInt8]
    public let alternativeNames: [GeneralName]
    /// The client's own PKCS#10 request when it asks for exactly what is to be certified (its proof of
    /// possession can then travel end to end); nil for requests of another form or a changed subject.
    public let csr: [UInt8]?
    public let notBefore: Date
    public let notAfter: Date
    public let requestID: String?
    /// The CA's checks of a certificate the upstream issued (DER): a connector calls it before it confirms
    /// the certificate, and when it throws, rejects the certificate upstream where the protocol can (a
    /// CMP certConf with status rejection, an ACME revocation) and throws its error.
    public let accept: @Sendable ([UInt8]) throws(CAError) -> Void
}

/// What an upstream CA issued: the certificate and any certificates it sent along (DER).
public struct UpstreamCertificate: Sendable {
    public let certificate: [UInt8]
    public let extraCertificates: [[UInt8]]

    public init(certificate: [UInt8], extraCertificates: [[UInt8]]) {
        self.certificate = certificate
        self.extraCertificates = extraCertificates
    }
}

/// A revocation to be made by an upstream CA.
public struct UpstreamRevocation: Sendable {
    public let target: UpstreamTarget
    /// The certificate to revoke (DER).
    public let certificate: [UInt8]
    /// The CRL reason code.
    public let reason: Int
    public let requestID: String?

    public init(target: UpstreamTarget, certificate: [UInt8], reason: Int, requestID: String?) {
        self.target = target
        self.certificate = certificate
        self.reason = reason
        self.requestID = requestID
    }
}

/// The connectors this build has, by protocol name (`cmp`, `est`, `acme`).
public struct UpstreamConnectors: Sendable {
    let byProtocol: [String: any UpstreamConnector]

    public init(_ byProtocol: [String: any UpstreamConnector] = [:]) { self.byProtocol = byProtocol }

    /// The protocols Custos can speak to an upstream CA.
    public static let protocols = ["cmp", "est", "acme"]

    func connector(_ name: String, ca: String) throws(CAError) -> any UpstreamConnector {
        guard let connector = byProtocol[name] else {
            throw CAError(.caNotUsable, "CA \(ca) is reached by \(name.uppercased()), which this process cannot speak")
        }
        return connector
    }
}
