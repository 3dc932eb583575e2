import CA
import SwiftASN1
public import X509

/// What a profile asks of a CSR, as EST's `/csrattrs` answers it (RFC 7030 section 4.5.2):
///
/// ```
/// CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID
/// AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }
/// Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE (1..MAX) OF ANY }
/// ```
///
/// The subject attributes the CA's policy requires (and the profile's subject template uses), the
/// subject alternative name extension when the policy requires one, and the key: for a policy that
/// allows elliptic-curve keys only, `id-ecPublicKey` with the allowed curves as an attribute (RFC 8951
/// section 3.4) and the matching ECDSA signature; for RSA only, `rsaEncryption` and SHA-256 with RSA.
enum CSRAttributes {
    static func der(for profile: EnrollmentProfile, policy: IssuancePolicy) throws -> [UInt8] {
        var oids: [ASN1ObjectIdentifier] = []
        var names = policy.requiredSubjectAttributes
        if let template = profile.subjectTemplate, let parsed = try? SubjectTemplate(template) {
            names += parsed.placeholders.filter { !$0.hasPrefix("CLIENT.") }
        }
        for name in names {
            guard let subject = try? DistinguishedNameText.parse("\(name)=x"), let type = subject.first?.first?.type
            else { continue }
            if !oids.contains(type) { oids.append(type) }
        }
        if policy.requireSAN { oids.append([2, 5, 29, 17]) }
        let curves: [(String, ASN1ObjectIdentifier)] = [
            ("ec-p256", [1, 2, 840, 10045, 3, 1, 7]), ("ec-p384", [1, 3, 132, 0, 34]), ("ec-p521", [1, 3, 132, 0, 35]),
        ]
        let allowed = policy.allowedKeyAlgorithms
        let allowedCurves = curves.filter { allowed.contains($0.0) }.map(\.1)
        var keyAttribute: (ASN1ObjectIdentifier, [ASN1ObjectIdentifier])?
        if !allowed.isEmpty, allowed.allSatisfy({ $0.hasPrefix("ec-") }), !allowedCurves.isEmpty {
            keyAttribute = ([1, 2, 840, 10045, 2, 1], allowedCurves)
            // ecdsa-with-SHA256, or SHA384 when P-256 is not allowed.
            oids.append(allowed.contains("ec-p256") ? [1, 2, 840, 10045, 4, 3, 2] : [1, 2, 840, 10045, 4, 3, 3])
        } else if !allowed.isEmpty, allowed.allSatisfy({ $0.hasPrefix("rsa-") }) {
            oids.append([1, 2, 840, 113_549, 1, 1, 1])
            oids.append([1, 2, 840, 113_549, 1, 1, 11])
        }
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { sequence in
            for oid in oids { try sequence.serialize(oid) }
            if let (type, values) = keyAttribute {
                try sequence.appendConstructedNode(identifier: .sequence) { attribute in
                    try attribute.serialize(type)
                    try attribute.appendConstructedNode(identifier: .set) { set in
                        for value in values { try set.serialize(value) }
                    }
                }
            }
        }
        return serializer.serializedBytes
    }
}

extension EnrollmentService {
    /// The DER `CsrAttrs` of profile `id` (RFC 7030 section 4.5.2); an empty SEQUENCE asks for nothing.
    public func csrAttributes(profile id: String) async throws(EnrollmentError) -> [UInt8] {
        let profile = try await profile(id)
        do {
            return try await CSRAttributes.der(
                for: profile,
                policy: try authority.policy(ca: profile.ca, category: profile.category)
            )
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// The chain of profile `id`'s CA, issuing CA first (EST `/cacerts`, SCEP GetCACert).
    public func caCertificates(profile id: String) async throws(EnrollmentError) -> [Certificate] {
        let profile = try await profile(id)
        do { return try await authority.chain(profile.ca) } catch { throw EnrollmentError.from(error) }
    }
}
