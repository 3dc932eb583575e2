import CA
import SwiftASN1
public import X509

/// An enrollment profile's subject: RFC 4514 text in which `{CN}`, `{SERIALNUMBER}`, … (any attribute
/// name `DistinguishedNameText` knows, or a dotted OID) stand for the request's first value of that
/// attribute. `CN={SERIALNUMBER},OU=Line 3,O=Acme` certifies a device by its serial number whatever
/// common name it asked for.
public struct SubjectTemplate: Sendable {
    let text: String
    /// The attribute names the template uses.
    let placeholders: [String]

    public init(_ text: String) throws(EnrollmentError) {
        self.text = text
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw EnrollmentError(.invalidInput, "subjectTemplate has a { without }")
            }
            let name = String(rest[rest.index(after: open)..<close])
            guard !name.isEmpty else { throw EnrollmentError(.invalidInput, "subjectTemplate has an empty {}") }
            names.append(name)
            rest = rest[rest.index(after: close)...]
        }
        placeholders = names
        // Filled with a harmless value, the template must be a valid name.
        do { _ = try DistinguishedNameText.parse(Self.fill(text, with: { _ in "x" })) } catch {
            throw EnrollmentError(.invalidInput, "subjectTemplate: \(error.message)")
        }
        for name in names where Self.type(named: name) == nil {
            throw EnrollmentError(.invalidInput, "subjectTemplate: {\(name)} is not an attribute name or dotted OID")
        }
    }

    /// The subject for a request whose subject is `requested`; refuses one that lacks an attribute the
    /// template uses (rule subjectTemplate).
    public func subject(for requested: DistinguishedName) throws(EnrollmentError) -> DistinguishedName {
        var missing: String?
        let filled = Self.fill(text) { name in
            guard let type = Self.type(named: name), let value = DistinguishedNameText.values(type, in: requested).last
            else {
                missing = missing ?? name
                return ""
            }
            return DistinguishedNameText.escape(value)
        }
        if let missing {
            throw EnrollmentError(
                .policyViolation,
                "rule subjectTemplate: the profile's subject uses the request's \(missing), which it does not have"
            )
        }
        do { return try DistinguishedNameText.parse(filled) } catch {
            throw EnrollmentError(.policyViolation, "rule subjectTemplate: \(error.message)")
        }
    }

    private static func fill(_ text: String, with value: (String) -> String) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            result += value(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    private static func type(named name: String) -> ASN1ObjectIdentifier? {
        guard let name = try? DistinguishedNameText.parse("\(name)=x"), let rdn = name.first, let first = rdn.first
        else { return nil }
        return first.type
    }
}
