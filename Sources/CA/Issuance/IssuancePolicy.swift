import CustosX509
import Foundation
import Synchronization

/// How a CA issues one category of certificates: defaults for what goes into the certificate, and
/// rules a request must meet. Stored as JSON in a `PolicyRecord`; a CA without a stored policy for a
/// category uses `IssuancePolicy.default(for:)`.
///
/// Every rule has a name (the property name) that a rejection message quotes.
public struct IssuancePolicy: Codable, Sendable, Hashable {
    // MARK: Defaults

    /// Validity when the request does not ask for one.
    public var validityDays: Int
    /// Extended key usages: `serverAuth`, `clientAuth`, `codeSigning`, `emailProtection`, `ocspSigning`,
    /// `timeStamping`, or dotted OIDs. Nil: the category's.
    public var extendedKeyUsage: [String]?
    /// CRL distribution point URLs. Nil: the CA's own CRL URL when Custos has a public base URL.
    public var crlDistributionPoints: [String]?
    /// OCSP responder URLs for the authority information access extension. Nil: the CA's own.
    public var ocspURLs: [String]?
    /// CA-issuers URLs (where the issuer's certificate can be fetched). Nil: the CA's own.
    public var caIssuersURLs: [String]?
    /// Certificate policy OIDs (RFC 5280 section 4.2.1.4).
    public var certificatePolicies: [String]

    // MARK: Rules

    /// Subject key algorithms allowed (`ec-p256`, `rsa-2048`, `ed25519`, …).
    public var allowedKeyAlgorithms: [String]
    /// The longest validity a request may ask for.
    public var maxValidityDays: Int
    /// Subject attributes (`CN`, `O`, …) a request must have.
    public var requiredSubjectAttributes: [String]
    /// Subject attributes a request may have, each with a regular expression its values must match
    /// whole. Attributes not listed are refused.
    public var allowedSubjectAttributes: [String: String]
    /// Subject alternative name types a request may have (`dns`, `ip`, `email`, `uri`), each with a
    /// regular expression the names must match whole. Types not listed are refused.
    public var allowedSANTypes: [String: String]
    /// Whether a request must have at least one subject alternative name.
    public var requireSAN: Bool
    /// Whether a subject common name must also be one of the SANs (CA/Browser Forum BR 7.1.4.3).
    public var commonNameInSAN: Bool
    /// Whether renewal may certify the public key of the certificate it renews again.
    public var allowPublicKeyReuse: Bool

    /// The built-in policy of a category.
    public static func `default`(for category: CertificateCategory) -> IssuancePolicy {
        let anyValue = ".+"
        var subject = ["CN", "O", "OU", "L", "ST", "C", "SERIALNUMBER", "E", "DC"]
        var algorithms = ["ec-p256", "ec-p384", "ec-p521", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"]
        var sanTypes = ["dns": anyValue, "ip": anyValue, "email": anyValue, "uri": anyValue]
        var required = ["CN"]
        if category == .tlsServer {
            // The Baseline Requirements allow neither OU, P-521 nor Ed25519 in TLS server certificates.
            // Domain validated by default (BR 7.1.2.7.2: the subject holds at most a CN, which is also a
            // SAN; the CN is not recommended).
            subject = ["CN"]
            algorithms = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
            sanTypes = ["dns": anyValue, "ip": anyValue]
            required = []
        }
        return IssuancePolicy(
            validityDays: category.defaultValidityDays(),
            extendedKeyUsage: nil,
            crlDistributionPoints: nil,
            ocspURLs: nil,
            caIssuersURLs: nil,
            certificatePolicies: category == .tlsServer ? ["2.23.140.1.2.1"] : [],
            allowedKeyAlgorithms: algorithms,
            maxValidityDays: category.defaultMaxValidityDays(),
            requiredSubjectAttributes: required,
            allowedSubjectAttributes: Dictionary(uniqueKeysWithValues: subject.map { ($0, anyValue) }),
            allowedSANTypes: sanTypes,
            requireSAN: category == .tlsServer,
            commonNameInSAN: category == .tlsServer,
            allowPublicKeyReuse: true
        )
    }

    /// Checks that the policy itself is usable: positive validity, known names, patterns that compile.
    public func validate() throws(CAError) {
        func bad(_ message: String) -> CAError { CAError(.invalidInput, "policy: \(message)") }
        guard validityDays > 0, maxValidityDays > 0, validityDays <= maxValidityDays else {
            throw bad("validityDays and maxValidityDays must be positive, validityDays at most maxValidityDays")
        }
        for (attribute, pattern) in allowedSubjectAttributes {
            guard DistinguishedNameText.types.contains(where: { $0.name == attribute }) else {
                throw bad("allowedSubjectAttributes names the unknown attribute \(attribute)")
            }
            _ = try Self.regex(pattern, rule: "allowedSubjectAttributes.\(attribute)")
        }
        for attribute in requiredSubjectAttributes where allowedSubjectAttributes[attribute] == nil {
            throw bad("requiredSubjectAttributes names \(attribute), which allowedSubjectAttributes does not allow")
        }
        for (type, pattern) in allowedSANTypes {
            guard SubjectAlternativeName.Kind(rawValue: type) != nil else {
                throw bad("allowedSANTypes names \(type); use dns, ip, email or uri")
            }
            _ = try Self.regex(pattern, rule: "allowedSANTypes.\(type)")
        }
        for usage in extendedKeyUsage ?? [] { _ = try ExtensionBuilder.extendedKeyUsage(usage) }
        for oid in certificatePolicies { _ = try ExtensionBuilder.objectIdentifier(oid, field: "certificatePolicies") }
        for url in (crlDistributionPoints ?? []) + (ocspURLs ?? []) + (caIssuersURLs ?? []) {
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "ldap" else {
                throw bad("\(url) is not an http or ldap URL (RFC 5280 section 4.2.1.13)")
            }
        }
    }

    static func regex(_ pattern: String, rule: String) throws(CAError) -> Regex<AnyRegexOutput> {
        do { return try Regex(pattern) } catch {
            throw CAError(.invalidInput, "policy: \(rule) is not a regular expression: \(pattern)")
        }
    }

    /// Checks a request against the rules; the error names the first rule it breaks.
    func check(
        keyAlgorithm: SubjectKeyAlgorithm,
        subject: [(type: String, value: String)],
        alternativeNames: [SubjectAlternativeName],
        validityDays: Int
    ) throws(CAError) {
        func broken(_ rule: String, _ message: String) -> CAError {
            CAError(.policyViolation, "rule \(rule): \(message)")
        }
        guard allowedKeyAlgorithms.contains(keyAlgorithm.name) else {
            throw broken(
                "allowedKeyAlgorithms",
                "\(keyAlgorithm) keys are not allowed; allowed: \(allowedKeyAlgorithms.joined(separator: ", "))"
            )
        }
        guard validityDays <= maxValidityDays else {
            throw broken("maxValidityDays", "\(validityDays) days asked, at most \(maxValidityDays) allowed")
        }
        for attribute in requiredSubjectAttributes where !subject.contains(where: { $0.type == attribute }) {
            throw broken("requiredSubjectAttributes", "the subject has no \(attribute)")
        }
        for (type, value) in subject {
            guard let pattern = allowedSubjectAttributes[type] else {
                throw broken("allowedSubjectAttributes", "subject attribute \(type) is not allowed")
            }
            guard try Self.matches(value, pattern, rule: "allowedSubjectAttributes.\(type)") else {
                throw broken("allowedSubjectAttributes", "\(type)=\(value) does not match \(pattern)")
            }
        }
        if requireSAN && alternativeNames.isEmpty {
            throw broken("requireSAN", "the request has no subject alternative name")
        }
        for name in alternativeNames {
            guard let pattern = allowedSANTypes[name.kind.rawValue] else {
                throw broken("allowedSANTypes", "\(name.kind.rawValue) names are not allowed")
            }
            guard try Self.matches(name.value, pattern, rule: "allowedSANTypes.\(name.kind.rawValue)") else {
                throw broken("allowedSANTypes", "\(name) does not match \(pattern)")
            }
        }
        if commonNameInSAN {
            for (type, value) in subject where type == "CN" {
                let listed = alternativeNames.contains { ($0.kind == .dns || $0.kind == .ip) && $0.value == value }
                guard listed else { throw broken("commonNameInSAN", "CN=\(value) is not one of the DNS or IP SANs") }
            }
        }
    }

    private static func matches(_ value: String, _ pattern: String, rule: String) throws(CAError) -> Bool {
        // The built-in policies' patterns, without compiling a regular expression per request.
        if pattern == ".+" { return !value.isEmpty }
        if pattern == ".*" { return true }
        let expression = try regex(pattern, rule: rule)
        return (try? expression.wholeMatch(in: value)) != nil
    }
}

/// Stored policy documents decoded once, by their bytes; a changed policy is a new entry. Bounded.
final class DecodedPolicies: Sendable {
    private let cache = Mutex<[BytesKey: IssuancePolicy]>([:])
    private let capacity = 256

    func policy(_ document: [UInt8]) throws -> IssuancePolicy {
        let key = BytesKey(document)
        if let known = cache.withLock({ $0[key] }) { return known }
        let decoded = try JSONDecoder().decode(IssuancePolicy.self, from: Data(document))
        cache.withLock { cache in
            if cache.count >= capacity { cache.removeAll() }
            cache[key] = decoded
        }
        return decoded
    }
}
