import Codecs
import CustosX509
import PKCS11
public import SwiftASN1
public import X509

/// Distinguished names as text (RFC 4514): `CN=Line 3 Root,O=Acme,C=DE`, most specific first.
///
/// Parsing accepts the attribute types a CA's operators write (`CN`, `C`, `O`, `OU`, `L`, `ST`,
/// `STREET`, `DC`, `SERIALNUMBER`, `E`, or a dotted OID), backslash escapes, and `+` for multi-valued
/// RDNs. Values are encoded as RFC 5280 section 4.1.2.4 recommends: UTF8String, except PrintableString
/// for countryName and serialNumber and IA5String for domainComponent and emailAddress.
public enum DistinguishedNameText {
    /// Short names and their attribute types.
    static let types: [(name: String, oid: ASN1ObjectIdentifier)] = [
        ("CN", .RDNAttributeType.commonName), ("C", .RDNAttributeType.countryName),
        ("O", .RDNAttributeType.organizationName), ("OU", .RDNAttributeType.organizationalUnitName),
        ("L", .RDNAttributeType.localityName), ("ST", .RDNAttributeType.stateOrProvinceName),
        ("STREET", .RDNAttributeType.streetAddress), ("DC", .RDNAttributeType.domainComponent),
        ("SERIALNUMBER", [2, 5, 4, 5]), ("E", .RDNAttributeType.emailAddress),
    ]

    /// The short name of an attribute type (`CN`, …), or its dotted OID.
    public static func name(of type: ASN1ObjectIdentifier) -> String {
        types.first { $0.oid == type }?.name ?? type.description
    }

    /// Parses `text`; throws `CAError.invalidInput` naming the problem.
    ///
    /// RFC 4514 is written in characters (Unicode scalars), not grapheme clusters: `=` or `,` followed by
    /// a combining mark is one Swift `Character` but still a separator, so the text is read as UTF-8.
    public static func parse(_ text: String) throws(CAError) -> DistinguishedName {
        let bytes = Array(text.utf8)
        let rdnTexts = try split(bytes[...], on: UInt8(ascii: ","), in: text)
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard !(rdnTexts.count == 1 && rdnTexts[0].allSatisfy(blank.contains)) else { return DistinguishedName() }
        var rdns: [RelativeDistinguishedName] = []
        for rdnText in rdnTexts {
            var attributes: [RelativeDistinguishedName.Attribute] = []
            for pair in try split(rdnText, on: UInt8(ascii: "+"), in: text) {
                attributes.append(try attribute(pair, in: text))
            }
            rdns.append(RelativeDistinguishedName(attributes))
        }
        // Text lists the most specific RDN first; the encoding lists the root first.
        return DistinguishedName(rdns.reversed())
    }

    /// `name` as text, most specific first, with RFC 4514 escapes.
    public static func format(_ name: DistinguishedName) -> String {
        name.reversed().map { rdn in
            rdn.map { attribute in
                let value = String(attribute.value).map(escape) ?? hexString(attribute.value)
                return "\(Self.name(of: attribute.type))=\(value)"
            }
            .joined(separator: "+")
        }.joined(separator: ",")
    }

    /// The values of one attribute type in `name`, root first, unescaped.
    public static func values(_ type: ASN1ObjectIdentifier, in name: DistinguishedName) -> [String] {
        name.flatMap { rdn in rdn.filter { $0.type == type }.map { text(of: $0.value) } }
    }

    /// An attribute value as policy rules see it: the string itself (no escapes) for the string types
    /// swift-certificates reads, else RFC 4514's `#` and the hex of the value's DER encoding.
    ///
    /// Not `String(describing:)`: swift-certificates' description escapes already, and escaping that
    /// again doubled every backslash (`Acme\\\, Inc.` for `Acme, Inc.`).
    public static func text(of value: RelativeDistinguishedName.Attribute.Value) -> String {
        String(value) ?? hexString(value)
    }

    /// RFC 4514 section 2.4's form for a value that is not a string: `#` and the hex of its DER.
    private static func hexString(_ value: RelativeDistinguishedName.Attribute.Value) -> String {
        guard let der = try? derBytes(ASN1Any(value)) else { return "#" }
        return "#" + Hex.encode(der)
    }

    private static func attribute(_ pair: ArraySlice<UInt8>, in text: String) throws(CAError)
        -> RelativeDistinguishedName.Attribute
    {
        guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else {
            throw CAError(
                .invalidInput,
                "\"\(String(decoding: pair, as: UTF8.self))\" in the name \"\(text)\" is not TYPE=value"
            )
        }
        let typeText = Substring(String(decoding: pair[..<equals], as: UTF8.self)).trimmingSpaces().uppercased()
        let value = try unescape(pair[(equals + 1)...], in: text)
        guard !value.isEmpty else { throw CAError(.invalidInput, "\(typeText) in the name \"\(text)\" is empty") }
        let type: ASN1ObjectIdentifier
        if let known = types.first(where: { $0.name == typeText || ($0.name == "E" && typeText == "EMAILADDRESS") }) {
            type = known.oid
        } else if let oid = ObjectIdentifierText.parse(typeText) {
            type = oid
        } else {
            throw CAError(
                .invalidInput,
                "unknown attribute type \"\(typeText)\" in the name \"\(text)\"; use "
                    + types.map(\.name).joined(separator: ", ") + " or a dotted OID"
            )
        }
        do {
            switch type {
            case .RDNAttributeType.countryName:
                guard value.count == 2, value.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                    throw CAError(.invalidInput, "C must be a two-letter ISO 3166 code in capitals, not \"\(value)\"")
                }
                return try .init(type: type, printableString: value)
            case [2, 5, 4, 5]: return try .init(type: type, printableString: value)
            case .RDNAttributeType.domainComponent, .RDNAttributeType.emailAddress:
                return try .init(type: type, ia5String: value)
            default: return .init(type: type, utf8String: value)
            }
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(.invalidInput, "\(typeText)=\(value) has characters its string type does not allow")
        }
    }

    /// Splits UTF-8 `text` at unescaped `separator`s (ASCII: never inside another character's bytes).
    private static func split(_ text: ArraySlice<UInt8>, on separator: UInt8, in name: String) throws(CAError)
        -> [ArraySlice<UInt8>]
    {
        var parts: [ArraySlice<UInt8>] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == UInt8(ascii: "\\") {
                index += 1
                guard index < text.endIndex else {
                    throw CAError(.invalidInput, "the name \"\(name)\" ends with a lone backslash")
                }
            } else if text[index] == separator {
                parts.append(text[start..<index])
                start = index + 1
            }
            index += 1
        }
        parts.append(text[start...])
        return parts
    }

    /// A value's text without its RFC 4514 escapes: `\` and a special character stands for that
    /// character, `\` and two hex digits for one byte of the value's UTF-8 (`\41` is `A`, `\C3\A9` is
    /// `é`). Spaces around the value are not part of it unless escaped.
    private static func unescape(_ text: ArraySlice<UInt8>, in name: String) throws(CAError) -> String {
        let input = Array(text)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.count, input[index] == UInt8(ascii: " ") { index += 1 }
        // Where the value ends: trailing spaces are dropped, but not one that a backslash escapes.
        var end = input.count
        while end > index, input[end - 1] == UInt8(ascii: " "), !isEscapedAt(end - 1, in: input, from: index) {
            end -= 1
        }
        while index < end {
            guard input[index] == UInt8(ascii: "\\") else {
                bytes.append(input[index])
                index += 1
                continue
            }
            guard index + 1 < end else {
                throw CAError(.invalidInput, "the name \"\(name)\" ends a value with a lone backslash")
            }
            if index + 2 < end, let high = Hex.value(ofDigit: input[index + 1]),
                let low = Hex.value(ofDigit: input[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(input[index + 1])
                index += 2
            }
        }
        guard let value = String(validating: bytes, as: UTF8.self) else {
            throw CAError(
                .invalidInput,
                "the hex escapes in \"\(String(decoding: text, as: UTF8.self))\" of the name \"\(name)\" are not UTF-8"
            )
        }
        return value
    }

    /// Whether the byte at `position` follows an odd number of backslashes (counted back to `start`).
    private static func isEscapedAt(_ position: Int, in bytes: [UInt8], from start: Int) -> Bool {
        var backslashes = 0
        var index = position - 1
        while index >= start, bytes[index] == UInt8(ascii: "\\") {
            backslashes += 1
            index -= 1
        }
        return backslashes % 2 == 1
    }

    /// `value` with RFC 4514 escapes, ready to stand as an attribute value in text.
    public static func escape(_ value: String) -> String {
        // Most values need nothing: no special byte anywhere, no space or # first, no space last. (A
        // special character is ASCII, so its byte never occurs inside another character's encoding.)
        let bytes = value.utf8
        let needsLook =
            bytes.contains(where: isEscaped) || bytes.first == UInt8(ascii: " ")
            || bytes.first == UInt8(ascii: "#") || bytes.last == UInt8(ascii: " ")
        guard needsLook else { return value }
        // One Unicode scalar at a time (RFC 4514 speaks of characters): a special followed by a combining
        // mark is still a special, though Swift sees one `Character`.
        let scalars = Array(value.unicodeScalars)
        var result = String.UnicodeScalarView()
        for (offset, scalar) in scalars.enumerated() {
            let special = scalar.isASCII && isEscaped(UInt8(scalar.value))
            let edge =
                (offset == 0 && (scalar == " " || scalar == "#")) || (offset == scalars.count - 1 && scalar == " ")
            if special || edge { result.append("\\") }
            result.append(scalar)
        }
        return String(result)
    }

    /// Whether `byte` is one of `, + " \ < > ; =` (RFC 4514 section 2.4).
    private static func isEscaped(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x2C, 0x2B, 0x22, 0x5C, 0x3C, 0x3E, 0x3B, 0x3D: true
        default: false
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
