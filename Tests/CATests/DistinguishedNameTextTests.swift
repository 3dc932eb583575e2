import CA
import SwiftASN1
import Testing
import X509

/// Subjects as RFC 4514 text: each value escaped once (swift-certificates' own description escapes
/// already, which Custos used to escape again), the shortcut for values that need no escape agrees with
/// the rule applied character by character, and the text reads back as the same name.
@Suite struct DistinguishedNameTextTests {
    /// RFC 4514 section 2.4, one character (Unicode scalar) at a time: the special characters anywhere, a
    /// space or `#` first, a space last. A special followed by a combining mark is still escaped.
    static func escapedByTheRule(_ value: String) -> String {
        let scalars = Array(value.unicodeScalars)
        var result = String.UnicodeScalarView()
        for (offset, scalar) in scalars.enumerated() {
            if ",+\"\\<>;=".unicodeScalars.contains(scalar) || (offset == 0 && (scalar == " " || scalar == "#"))
                || (offset == scalars.count - 1 && scalar == " ")
            {
                result.append("\\")
            }
            result.append(scalar)
        }
        return String(result)
    }

    static func name(commonName value: String) -> DistinguishedName {
        DistinguishedName([
            RelativeDistinguishedName([
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.commonName, utf8String: value)
            ])
        ])
    }

    @Test func escapingAgreesWithTheRuleOnAwkwardValues() throws {
        let pieces = [
            "a", "Z", "0", " ", "#", ",", "+", "\"", "\\", "<", ">", ";", "=", "é", "e\u{301}", " \u{301}",
            "#\u{301}", ",\u{301}", "ü", "日本", "🏭", "-", ".",
        ]
        var generator = SystemRandomNumberGenerator()
        var values = ["line 3 device", "# lead", "trail ", " lead", "Acme, Inc.", "a+b", "x=y", "\u{301}", "日本 "]
        for _ in 0..<3000 {
            let length = Int.random(in: 1...6, using: &generator)
            values.append((0..<length).map { _ in pieces.randomElement(using: &generator)! }.joined())
        }
        var escaped = 0
        for value in values {
            let text = DistinguishedNameText.format(Self.name(commonName: value))
            #expect(text == "CN=" + Self.escapedByTheRule(value), "value \(value.debugDescription)")
            if text != "CN=" + value { escaped += 1 }
        }
        // Both paths ran: values left alone and values escaped.
        #expect(escaped > 100 && escaped < values.count - 100, "\(escaped) of \(values.count) escaped")
    }

    @Test func formattedSubjectsReadBackAsTheSameName() throws {
        for text in ["CN=line 3 device,O=Acme\\, Inc.,C=DE", "CN=\\#1 \\+ more\\=,OU=a\\;b", "CN=x\\ "] {
            let name = try DistinguishedNameText.parse(text)
            #expect(try DistinguishedNameText.parse(DistinguishedNameText.format(name)) == name, "\(text)")
        }
    }

    @Test func valuesAreTheStringsThemselves() throws {
        let name = try DistinguishedNameText.parse("CN=Acme\\, Inc. \\+ \\\"Q\\\",O=a\\\\b")
        #expect(DistinguishedNameText.values(.RDNAttributeType.commonName, in: name) == ["Acme, Inc. + \"Q\""])
        #expect(DistinguishedNameText.values(.RDNAttributeType.organizationName, in: name) == ["a\\b"])
        #expect(DistinguishedNameText.format(name) == "CN=Acme\\, Inc. \\+ \\\"Q\\\",O=a\\\\b")
    }

    @Test func aValueThatIsNotAStringIsWrittenAsHex() throws {
        // A BMPString "AB": not one of the string types swift-certificates reads.
        let bmp = try ASN1Any(derEncoded: [0x1E, 0x04, 0x00, 0x41, 0x00, 0x42])
        let name = DistinguishedName([
            RelativeDistinguishedName([
                RelativeDistinguishedName.Attribute(type: .RDNAttributeType.commonName, value: .init(asn1Any: bmp))
            ])
        ])
        #expect(DistinguishedNameText.format(name) == "CN=#1e0400410042")
        #expect(DistinguishedNameText.values(.RDNAttributeType.commonName, in: name) == ["#1e0400410042"])
    }

    /// Found by the fuzz target: `=` (or `,`) followed by a combining mark is one Swift `Character`, and a
    /// parser that reads characters missed the separator. Every such name survives writing and reading.
    @Test func separatorsFollowedByCombiningMarksAreStillSeparators() throws {
        let found = try DistinguishedNameText.parse("CN=Ci\u{FFFD}Root,O=\\  ot,O=\\\u{036C}oo c")
        #expect(try DistinguishedNameText.parse(DistinguishedNameText.format(found)) == found)
        let cases: [(text: String, values: [String])] = [
            ("O=\u{036C}oo", ["\u{036C}oo"]), ("O=a,\u{0301}O=b", []), ("O=a\\,\u{0301}b", ["a,\u{0301}b"]),
            ("O=x+\u{0301}OU=y", []),
        ]
        for (text, values) in cases {
            do {
                let name = try DistinguishedNameText.parse(text)
                if !values.isEmpty {
                    #expect(
                        DistinguishedNameText.values(.RDNAttributeType.organizationName, in: name) == values,
                        "\(text)"
                    )
                }
                #expect(try DistinguishedNameText.parse(DistinguishedNameText.format(name)) == name, "\(text)")
            } catch {
                // ",\u{301}O=b" starts an RDN with a combining mark before its type: refused, clearly.
                #expect(values.isEmpty && error.code == .invalidInput, "\(text): \(error)")
            }
        }
    }

    /// Found by the fuzz target: a dotted attribute type that swift-asn1 takes (`4.…`) and then traps on,
    /// or traps on at once. Refused as unknown attribute types.
    @Test func attributeTypesThatAreNotWellFormedOIDsAreRefused() throws {
        for text in ["CN=a+4.9714444444974444444=x", "CN=x,2.18446744073709551600=y", "1.2.99999999999=z", "3.1=q"] {
            #expect(throws: CAError.self, "\(text)") { try DistinguishedNameText.parse(text) }
        }
        let name = try DistinguishedNameText.parse("2.5.4.97=VATDE-123,CN=x")
        #expect(DistinguishedNameText.format(name) == "2.5.4.97=VATDE-123,CN=x")
    }

    @Test func hexEscapesStandForTheBytesOfTheValue() throws {
        let cases: [(text: String, value: String)] = [
            ("CN=\\41BC", "ABC"), ("CN=caf\\C3\\A9", "café"), ("CN=caf\\c3\\a9", "café"),
            ("CN=\\E6\\97\\A5\\E6\\9C\\AC", "日本"), ("CN=x\\20", "x "), ("CN=x\\ ", "x "),
            ("CN=  padded  ", "padded"), ("CN=\\2C\\2B", ",+"), ("CN=a\\\\ ", "a\\"), ("CN=\\4", "4"),
        ]
        for (text, value) in cases {
            let name = try DistinguishedNameText.parse(text)
            #expect(DistinguishedNameText.values(.RDNAttributeType.commonName, in: name) == [value], "\(text)")
        }
        for bad in ["CN=bad\\C3", "CN=\\FF", "CN=a\\"] {
            #expect(throws: CAError.self, "\(bad)") { try DistinguishedNameText.parse(bad) }
        }
    }
}
