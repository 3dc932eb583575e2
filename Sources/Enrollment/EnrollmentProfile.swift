public import CA
import Codecs
import CustosX509
import Foundation
public import X509

/// A named enrollment profile: which CA issues what through which protocols, how clients authenticate,
/// whether an officer approves each request, and when renewal is allowed. Stored as JSON in an
/// `EnrollmentProfileRecord`; its name is the `<label>` of `/.well-known/est/<label>/` and
/// `/scep/<label>`, `/acme/<label>/directory` and `/.well-known/cmp/p/<label>`, and the profile named
/// `default` also answers `/.well-known/est/` and `/.well-known/cmp`.
public struct EnrollmentProfile: Codable, Sendable, Hashable {
    /// 1 to 64 of `a-z 0-9 -`, starting with a letter or digit.
    public var id: String
    /// The issuing CA; its policy for `category` applies unchanged.
    public var ca: String
    public var category: CertificateCategory
    /// Validity of issued certificates; nil: the policy's.
    public var validityDays: Int?
    /// The subject to certify, as RFC 4514 text in which `{CN}`, `{O}`, `{SERIALNUMBER}`, … stand for
    /// the request's values of those attributes and `{CLIENT.CN}`, … for those of the client's
    /// certificate (`CN={SERIALNUMBER},O=Acme Devices`; see `SubjectTemplate`). Nil: the request's subject
    /// as it is.
    public var subjectTemplate: String?
    /// `est`, `scep`, `acme`, `cmp`.
    public var protocols: [EnrollmentProtocol]
    /// What ACME may order (required when `protocols` has `acme`).
    public var acme: ACMEPolicy?
    /// How CMP answers (defaults when nil).
    public var cmp: CMPPolicy?
    public var authentication: Authentication
    /// `automatic` issues at once; `manual` keeps each request pending until an officer decides.
    public var approval: Approval
    public var renewal: Renewal
    public var description: String?
    /// For a profile of an upstream CA: what a request gets when that CA cannot be reached (nil: `fail`).
    public var whenUpstreamUnavailable: UpstreamUnavailable?

    public enum EnrollmentProtocol: String, Codable, Sendable, Hashable, CaseIterable {
        /// `portal`: people request certificates in the self-service portal (`/portal/`); `console`:
        /// officers request them in the web console for someone else (with manual approval, another
        /// officer approves).
        case est, scep, acme, cmp, portal, console
    }

    public enum Approval: String, Codable, Sendable, Hashable {
        case automatic, manual
    }

    /// `fail`: the client gets an error and asks again later; `hold`: the request is held, sent to the
    /// upstream CA again in the background, and the client polls as it would for an officer's approval.
    public enum UpstreamUnavailable: String, Codable, Sendable, Hashable {
        case fail, hold
    }

    /// Whether a request is held when the upstream CA cannot be reached.
    public var holdsWhenUpstreamUnavailable: Bool { whenUpstreamUnavailable == .hold }

    /// How clients prove who they are.
    public struct Authentication: Codable, Sendable, Hashable {
        /// The profile's shared password (made by Custos, `POST …/password`) as EST Basic password or
        /// SCEP challenge password.
        public var sharedPassword: Bool
        /// One-time passwords for single devices (`POST …/one-time-passwords`).
        public var oneTimePasswords: Bool
        /// PEM certificates that TLS client certificates may chain to for a first enrollment (a
        /// manufacturer's IDevID roots or issuing CAs). Certificates the profile's own CA issued are
        /// always accepted for re-enrollment.
        public var clientCertificateAnchors: [String]

        public init(
            sharedPassword: Bool = false,
            oneTimePasswords: Bool = true,
            clientCertificateAnchors: [String] = []
        ) {
            self.sharedPassword = sharedPassword
            self.oneTimePasswords = oneTimePasswords
            self.clientCertificateAnchors = clientCertificateAnchors
        }
    }

    /// When and how a certificate of this profile may be renewed by its holder.
    public struct Renewal: Codable, Sendable, Hashable {
        /// Re-enrollment is allowed this many days before expiry at the earliest; nil: any time while
        /// the certificate is valid.
        public var windowDays: Int?
        /// Whether a renewal may certify the same key again (the CA policy's `allowPublicKeyReuse` also
        /// applies).
        public var allowSameKey: Bool

        public init(windowDays: Int? = nil, allowSameKey: Bool = true) {
            self.windowDays = windowDays
            self.allowSameKey = allowSameKey
        }
    }

    public init(
        id: String,
        ca: String,
        category: CertificateCategory,
        validityDays: Int? = nil,
        subjectTemplate: String? = nil,
        protocols: [EnrollmentProtocol] = [.est, .scep],
        authentication: Authentication = .init(),
        approval: Approval = .automatic,
        renewal: Renewal = .init(),
        description: String? = nil,
        acme: ACMEPolicy? = nil,
        cmp: CMPPolicy? = nil,
        whenUpstreamUnavailable: UpstreamUnavailable? = nil
    ) {
        self.whenUpstreamUnavailable = whenUpstreamUnavailable
        self.cmp = cmp
        self.id = id
        self.ca = ca
        self.category = category
        self.validityDays = validityDays
        self.subjectTemplate = subjectTemplate
        self.protocols = protocols
        self.authentication = authentication
        self.approval = approval
        self.renewal = renewal
        self.description = description
        self.acme = acme
    }

    /// Checks every field that does not need the store; throws naming the first problem.
    public func validate() throws(EnrollmentError) {
        let bytes = Array(id.utf8)
        let allowed = { (byte: UInt8) in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
        }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), bytes[0] != 0x2D else {
            throw EnrollmentError(
                .invalidInput,
                "a profile name has 1 to 64 characters from a-z 0-9 - and starts with a letter or digit"
            )
        }
        if let days = validityDays, !(1...36_525).contains(days) {
            throw EnrollmentError(.invalidInput, "validityDays must be from 1 to 36525")
        }
        guard !protocols.isEmpty, Set(protocols).count == protocols.count else {
            throw EnrollmentError(.invalidInput, "protocols lists est, scep, acme and/or cmp, each once")
        }
        if protocols.contains(.acme) {
            guard let acme else { throw EnrollmentError(.invalidInput, "a profile offering acme needs an acme policy") }
            try acme.validate()
        }
        try cmp?.validate()
        if let template = subjectTemplate { _ = try SubjectTemplate(template) }
        if let window = renewal.windowDays, !(1...36_525).contains(window) {
            throw EnrollmentError(.invalidInput, "renewal.windowDays must be from 1 to 36525")
        }
        if let text = description, text.utf8.count > 1024 {
            throw EnrollmentError(.invalidInput, "description is longer than 1024 bytes")
        }
        guard authentication.clientCertificateAnchors.count <= 32 else {
            throw EnrollmentError(.invalidInput, "at most 32 client certificate anchors")
        }
        _ = try anchorCertificates()
        guard category != .ocspSigning, category != .registrationAuthority else {
            throw EnrollmentError(
                .invalidInput,
                "OCSP signer and SCEP RA certificates are made by Custos, not enrolled"
            )
        }
    }

    /// The client certificate anchors, parsed.
    public func anchorCertificates() throws(EnrollmentError) -> [Certificate] {
        var certificates: [Certificate] = []
        for (index, text) in authentication.clientCertificateAnchors.enumerated() {
            let field = "authentication.clientCertificateAnchors[\(index)]"
            let block: PEM.Block
            do { block = try PEM.block(text) } catch {
                throw EnrollmentError(.invalidInput, "\(field) is not a PEM certificate: \(error)")
            }
            guard block.label == "CERTIFICATE" else {
                throw EnrollmentError(.invalidInput, "\(field) is a PEM \(block.label), not a CERTIFICATE")
            }
            do { certificates.append(try Certificate(derEncoded: block.der)) } catch {
                throw EnrollmentError(.invalidInput, "\(field) does not parse as a certificate: \(error)")
            }
        }
        return certificates
    }
}
