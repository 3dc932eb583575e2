public import SwiftASN1

/// Why a certificate was revoked (RFC 5280 section 5.3.1).
///
/// ```
/// id-ce-cRLReasons OBJECT IDENTIFIER ::= { id-ce 21 }
///
/// CRLReason ::= ENUMERATED {
///      unspecified             (0),
///      keyCompromise           (1),
///      cACompromise            (2),
///      affiliationChanged      (3),
///      superseded              (4),
///      cessationOfOperation    (5),
///      certificateHold         (6),
///           -- value 7 is not used
///      removeFromCRL           (8),
///      privilegeWithdrawn      (9),
///      aACompromise           (10) }
/// ```
///
/// A CRL entry leaves the extension out for `unspecified` ("the reason code extension SHOULD be
/// absent instead of using the unspecified (0) reasonCode value").
public enum CRLReason: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case unspecified = 0
    case keyCompromise = 1
    case caCompromise = 2
    case affiliationChanged = 3
    case superseded = 4
    case cessationOfOperation = 5
    case certificateHold = 6
    case removeFromCRL = 8
    case privilegeWithdrawn = 9
    case aaCompromise = 10

    public static let oid: ASN1ObjectIdentifier = [2, 5, 29, 21]

    /// The RFC's name (`keyCompromise`, `cACompromise`, …).
    public var description: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .caCompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aaCompromise: "aACompromise"
        }
    }

    /// Reads an RFC name (case-insensitive).
    public init?(name: String) {
        guard let reason = Self.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = reason
    }

    /// The extension's value: the DER ENUMERATED.
    public var encodedValue: [UInt8] { [0x0A, 0x01, rawValue] }
}
