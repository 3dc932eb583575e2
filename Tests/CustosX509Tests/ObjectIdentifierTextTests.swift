import CustosX509
import SwiftASN1
import Testing

/// Dotted OIDs from operators: what swift-asn1 reads well is read the same, what it takes wrongly or
/// traps on is refused first.
@Suite struct ObjectIdentifierTextTests {
    @Test func wellFormedIdentifiersReadAsSwiftASN1ReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        var texts = [
            "2.5.4.3", "0.9.2342.19200300.100.1.25", "1.3.6.1.5.5.7.3.1", "2.23.140.1.2.1", "1.39.0",
            "1.2.4294967295",
        ]
        for _ in 0..<500 {
            let first = UInt64.random(in: 0...2, using: &generator)
            let second = UInt64.random(in: 0...39, using: &generator)
            let rest = (0..<Int.random(in: 0...6, using: &generator)).map { _ in
                String(UInt64.random(in: 0...UInt64(UInt32.max), using: &generator))
            }
            texts.append(([String(first), String(second)] + rest).joined(separator: "."))
        }
        for text in texts {
            let parsed = try #require(ObjectIdentifierText.parse(text), "\(text)")
            #expect(parsed == (try ASN1ObjectIdentifier(dotRepresentation: text)), "\(text)")
            #expect(parsed.description == text, "\(text)")
        }
    }

    @Test func malformedOrOversizedIdentifiersAreRefused() {
        // swift-asn1 traps on 2.18446744073709551600 (found by FuzzDistinguishedName) and on reading back
        // 1.2.18446744073709551615, takes 4.5, and reads 2.999.1 back as 26.39.1.
        for text in [
            "", "2", "2.", ".2.5", "2..5", "4.5", "3.1", "1.40", "0.99", "02.5", "2.05", "2.5.x", "2.5.-1", "+2.5",
            "2.5.4.3 ", "1.2.4294967296", "1.2.18446744073709551615", "2.18446744073709551600", "2.999.1",
        ] {
            #expect(ObjectIdentifierText.parse(text) == nil, "\(text)")
        }
    }
}
