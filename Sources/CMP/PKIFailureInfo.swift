import SwiftASN1

/// Why a request failed, as named bits (RFC 9810 section 5.2.3).
///
/// ```
/// PKIFailureInfo ::= BIT STRING {
///   badAlg (0), badMessageCheck (1), badRequest (2), badTime (3), badCertId (4), badDataFormat (5),
///   wrongAuthority (6), incorrectData (7), missingTimeStamp (8), badPOP (9), certRevoked (10),
///   certConfirmed (11), wrongIntegrity (12), badRecipientNonce (13), timeNotAvailable (14),
///   unacceptedPolicy (15), unacceptedExtension (16), addInfoNotAvailable (17), badSenderNonce (18),
///   badCertTemplate (19), signerNotTrusted (20), transactionIdInUse (21), unsupportedVersion (22),
///   notAuthorized (23), systemUnavail (24), systemFailure (25), duplicateCertReq (26) }
/// ```
public struct PKIFailureInfo: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    init(bit: Int) { rawValue = 1 << UInt32(bit) }

    public static let badAlg = PKIFailureInfo(bit: 0)
    public static let badMessageCheck = PKIFailureInfo(bit: 1)
    public static let badRequest = PKIFailureInfo(bit: 2)
    public static let badTime = PKIFailureInfo(bit: 3)
    public static let badCertId = PKIFailureInfo(bit: 4)
    public static let badDataFormat = PKIFailureInfo(bit: 5)
    public static let wrongAuthority = PKIFailureInfo(bit: 6)
    public static let incorrectData = PKIFailureInfo(bit: 7)
    public static let badPOP = PKIFailureInfo(bit: 9)
    public static let certRevoked = PKIFailureInfo(bit: 10)
    public static let certConfirmed = PKIFailureInfo(bit: 11)
    public static let wrongIntegrity = PKIFailureInfo(bit: 12)
    public static let badRecipientNonce = PKIFailureInfo(bit: 13)
    public static let unacceptedPolicy = PKIFailureInfo(bit: 15)
    public static let unacceptedExtension = PKIFailureInfo(bit: 16)
    public static let badSenderNonce = PKIFailureInfo(bit: 18)
    public static let badCertTemplate = PKIFailureInfo(bit: 19)
    public static let signerNotTrusted = PKIFailureInfo(bit: 20)
    public static let transactionIdInUse = PKIFailureInfo(bit: 21)
    public static let unsupportedVersion = PKIFailureInfo(bit: 22)
    public static let notAuthorized = PKIFailureInfo(bit: 23)
    public static let systemUnavail = PKIFailureInfo(bit: 24)
    public static let systemFailure = PKIFailureInfo(bit: 25)
    public static let duplicateCertReq = PKIFailureInfo(bit: 26)

    static let names = [
        "badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId", "badDataFormat", "wrongAuthority",
        "incorrectData", "missingTimeStamp", "badPOP", "certRevoked", "certConfirmed", "wrongIntegrity",
        "badRecipientNonce", "timeNotAvailable", "unacceptedPolicy", "unacceptedExtension", "addInfoNotAvailable",
        "badSenderNonce", "badCertTemplate", "signerNotTrusted", "transactionIdInUse", "unsupportedVersion",
        "notAuthorized", "systemUnavail", "systemFailure", "duplicateCertReq",
    ]

    public var description: String {
        let set = Self.names.indices.filter { rawValue & (1 << UInt32($0)) != 0 }.map { Self.names[$0] }
        return set.isEmpty ? "none" : set.joined(separator: "+")
    }

    /// The DER BIT STRING: bit 0 is the first byte's high bit, trailing zero bits dropped (X.690 11.2.2).
    var bitString: ASN1BitString {
        var bytes: [UInt8] = []
        for bit in 0..<27 where rawValue & (1 << UInt32(bit)) != 0 {
            while bytes.count <= bit / 8 { bytes.append(0) }
            bytes[bit / 8] |= 0x80 >> UInt8(bit % 8)
        }
        let padding = bytes.last.map { UInt8($0.trailingZeroBitCount) } ?? 0
        return ASN1BitString(bytes: bytes[...], paddingBits: Int(padding))
    }

    init(bitString: ASN1BitString) {
        var value: UInt32 = 0
        for (index, byte) in bitString.bytes.prefix(4).enumerated() {
            for offset in 0..<8 where byte & (0x80 >> UInt8(offset)) != 0 {
                let bit = index * 8 + offset
                if bit < 32 { value |= 1 << UInt32(bit) }
            }
        }
        rawValue = value
    }
}
