import SwiftASN1
public import X509

/// The challengePassword attribute of a PKCS#10 request (RFC 2985 section 5.4.1), which is how a SCEP
/// client authenticates a first request (RFC 8894 section 2.3).
///
/// ```
/// challengePassword ATTRIBUTE ::= {
///   WITH SYNTAX DirectoryString {pkcs-9-ub-challengePassword}
///   EQUALITY MATCHING RULE caseExactMatch
///   SINGLE VALUE TRUE
///   ID pkcs-9-at-challengePassword }
/// ```
public enum ChallengePassword {
    /// The request's challenge password, if it has one; an error if it has one that is not a single
    /// DirectoryString.
    public static func of(_ request: CertificateSigningRequest) throws(SCEPError) -> String? {
        guard let attribute = request.attributes.first(where: { $0.oid == SCEPObjectIdentifiers.challengePassword })
        else { return nil }
        let strings: [ASN1Identifier] = [.printableString, .utf8String, .ia5String, .teletexString, .bmpString]
        guard attribute.values.count == 1, let der = try? derValue(attribute.values[0]),
            let node = try? DER.parse(der), strings.contains(node.identifier), node.identifier != .bmpString,
            case .primitive(let bytes) = node.content, let text = String(bytes: bytes, encoding: .utf8)
        else { throw SCEPError(.badRequest, "the challengePassword is not a single string") }
        return text
    }

    private static func derValue(_ value: ASN1Any) throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.serialize(value)
        return coder.serializedBytes
    }
}
