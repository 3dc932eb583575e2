import SwiftASN1

/// The outcome of one request (RFC 9810 section 5.2.3).
///
/// ```
/// PKIStatusInfo ::= SEQUENCE {
///   status        PKIStatus,
///   statusString  PKIFreeText     OPTIONAL,
///   failInfo      PKIFailureInfo  OPTIONAL }
/// PKIStatus ::= INTEGER { accepted (0), grantedWithMods (1), rejection (2), waiting (3),
///   revocationWarning (4), revocationNotification (5), keyUpdateWarning (6) }
/// ```
public struct PKIStatusInfo: Sendable, Hashable {
    public enum Status: Int, Sendable, Hashable {
        case accepted = 0, grantedWithMods, rejection, waiting, revocationWarning, revocationNotification
        case keyUpdateWarning
    }

    public var status: Status
    public var statusString: [String]
    public var failInfo: PKIFailureInfo?

    public init(_ status: Status, _ statusString: [String] = [], failInfo: PKIFailureInfo? = nil) {
        self.status = status
        self.statusString = statusString
        self.failInfo = failInfo
    }

    /// A rejection for `error`.
    public init(rejecting error: CMPError) {
        self.init(.rejection, [error.reason], failInfo: error.failInfo)
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a PKIStatusInfo").makeIterator()
        guard let statusNode = iterator.next(),
            let status = Status(rawValue: try smallInteger(statusNode, "a PKIStatus"))
        else { throw CMPError(.badDataFormat, "a PKIStatusInfo has no known status") }
        self.status = status
        statusString = []
        failInfo = nil
        var next = iterator.next()
        if let text = next, text.identifier == .sequence {
            statusString = try FreeText.parse(text)
            next = iterator.next()
        }
        if let bits = next {
            let value = try parsing("a PKIFailureInfo") { try ASN1BitString(derEncoded: bits) }
            failInfo = PKIFailureInfo(bitString: value)
            next = iterator.next()
        }
        guard next == nil else { throw CMPError(.badDataFormat, "a PKIStatusInfo has extra fields") }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(status.rawValue)
            if !statusString.isEmpty { try FreeText.serialize(statusString, into: &sequence) }
            if let failInfo { try sequence.serialize(failInfo.bitString) }
        }
    }
}
