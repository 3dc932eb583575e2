public import SwiftASN1

/// Object identifiers written as text (`2.5.4.3`), as operators give them for attribute types,
/// policies and extended key usages.
///
/// swift-asn1's `init(dotRepresentation:)` takes a first arc above 2, traps (arithmetic overflow) on
/// `2.18446744073709551600`, and reads a second arc of 40 or more under 2 back wrongly (`2.999.1`
/// becomes `26.39.1`), so text from outside is checked here first: decimal arcs without leading
/// zeros, at least two, the first 0, 1 or 2, the second under 40 (X.660 allows more under 2, as in
/// `2.999` or UUID arcs under `2.25`; names and policies in use stay under 40: `2.5`, `2.16`, `2.23`),
/// every arc within 32 bits (it cannot read back an arc of 64: `1.2.18446744073709551615` traps).
public enum ObjectIdentifierText {
    /// The identifier `text` names, or nil when it is not a well-formed dotted OID.
    public static func parse(_ text: String) -> ASN1ObjectIdentifier? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.count <= 64 else { return nil }
        var arcs: [UInt64] = []
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part == "0" || part.first != "0", let arc = UInt64(part), arc <= UInt64(UInt32.max)
            else { return nil }
            arcs.append(arc)
        }
        guard arcs[0] <= 2, arcs[1] < 40 else { return nil }
        return try? ASN1ObjectIdentifier(dotRepresentation: text)
    }
}
