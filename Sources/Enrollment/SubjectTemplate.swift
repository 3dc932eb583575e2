import CA
import SwiftASN1
public import X509

/// An enrollment profile's subject: RFC 4514 text in which `{CN}`, `{SERIALNUMBER}`, … (any attribute
/// name `DistinguishedNameText` knows, or a dotted OID) stand for the request's value of that
/// attribute, and `{CLIENT.CN}`, `{CLIENT.SERIALNUMBER}`, … for the value in the subject of the
/// certificate the client authenticated with (a manufacturer's IDevID, or its current certificate).
/// `CN={SERIALNUMBER},OU=Line 3,O=Acme` certifies a device by the serial number it asks for;
/// `CN={CLIENT.SERIALNUMBER},O=Acme` by the one its manufacturer certified, whatever it asks for.
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
        for name in names where Self.type(named: Self.clientAttribute(name) ?? name) == nil {
            throw EnrollmentError(.invalidInput, "subjectTemplate: {\(name)} is not an attribute name or dotted OID")
        }
    }

    /// Whether the template reads the client certificate's subject.
    public var usesClientCertificate: Bool { placeholders.contains { Self.clientAttribute($0) != nil } }

    /// The subject for a request whose subject is `requested`, from a client that authenticated with a
    /// certificate for `client` (if it did); refuses when the template uses an attribute that is not
    /// there (rule subjectTemplate).
    public func subject(for requested: DistinguishedName, client: DistinguishedName? = nil) throws(EnrollmentError)
        -> DistinguishedName
    {
        var missing: String?
        let filled = Self.fill(text) { name in
            let attribute = Self.clientAttribute(name)
            let source = attribute == nil ? requested : client
            guard let source, let type = Self.type(named: attribute ?? name),
                let value = DistinguishedNameText.values(type, in: source).last
            else {
                missing = missing ?? name
                return ""
            }
            return DistinguishedNameText.escape(value)
        }
        if let missing {
            throw EnrollmentError(
                .policyViolation,
                Self.clientAttribute(missing) == nil
                    ? "rule subjectTemplate: the profile's subject uses the request's \(missing), which it does not have"
                    : "rule subjectTemplate: the profile's subject uses {\(missing)}, and the client authenticated "
                        + (client == nil ? "without a certificate" : "with a certificate that has none")
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

    /// `CN` for `CLIENT.CN`; nil for a placeholder of the request.
    private static func clientAttribute(_ name: String) -> String? {
        name.hasPrefix("CLIENT.") ? String(name.dropFirst(7)) : nil
    }

    private static func type(named name: String) -> ASN1ObjectIdentifier? {
        guard let name = try? DistinguishedNameText.parse("\(name)=x"), let rdn = name.first, let first = rdn.first
        else { return nil }
        return first.type
    }
}
