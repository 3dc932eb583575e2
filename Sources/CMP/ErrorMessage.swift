import SwiftASN1

/// An error answer (RFC 9810 section 5.3.21).
///
/// ```
/// ErrorMsgContent ::= SEQUENCE {
///   pKIStatusInfo  PKIStatusInfo,
///   errorCode      INTEGER       OPTIONAL,
///   errorDetails   PKIFreeText   OPTIONAL }
/// ```
public struct ErrorMessage: Sendable, Hashable {
    public var status: PKIStatusInfo
    public var errorCode: Int?
    public var details: [String]

    public init(status: PKIStatusInfo, errorCode: Int? = nil, details: [String] = []) {
        self.status = status
        self.errorCode = errorCode
        self.details = details
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "an ErrorMsgContent").makeIterator()
        guard let statusNode = iterator.next() else { throw CMPError(.badDataFormat, "an ErrorMsgContent is empty") }
        status = try PKIStatusInfo(node: statusNode)
        errorCode = nil
        details = []
        while let field = iterator.next() {
            if field.identifier == .integer {
                errorCode = try smallInteger(field, "errorCode")
            } else {
                details = try FreeText.parse(field)
            }
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try status.serialize(into: &sequence)
            if let errorCode { try sequence.serialize(errorCode) }
            if !details.isEmpty { try FreeText.serialize(details, into: &sequence) }
        }
    }
}
