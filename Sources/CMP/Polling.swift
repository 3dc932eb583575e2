import SwiftASN1

/// Polling for a certificate that waits for approval (RFC 9810 sections 5.3.22, RFC 9483 section 4.4).
///
/// ```
/// PollReqContent ::= SEQUENCE OF SEQUENCE { certReqId INTEGER }
/// PollRepContent ::= SEQUENCE OF SEQUENCE {
///   certReqId   INTEGER,
///   checkAfter  INTEGER,  -- time in seconds
///   reason      PKIFreeText OPTIONAL }
/// ```
public struct PollResponse: Sendable, Hashable {
    public var certReqID: Int
    public var checkAfterSeconds: Int
    public var reason: [String]

    public init(certReqID: Int, checkAfterSeconds: Int, reason: [String] = []) {
        self.certReqID = certReqID
        self.checkAfterSeconds = checkAfterSeconds
        self.reason = reason
    }

    static func parseRequest(_ node: ASN1Node) throws(CMPError) -> [Int] {
        try children(of: node, .sequence, "a PollReqContent").map { item throws(CMPError) in
            var fields = try children(of: item, .sequence, "a poll request").makeIterator()
            guard let id = fields.next(), fields.next() == nil else {
                throw CMPError(.badDataFormat, "a poll request holds one certReqId")
            }
            return try smallInteger(id, "certReqId")
        }
    }

    init(node: ASN1Node) throws(CMPError) {
        var fields = try children(of: node, .sequence, "a poll response").makeIterator()
        guard let id = fields.next(), let after = fields.next() else {
            throw CMPError(.badDataFormat, "a poll response lacks its id or checkAfter")
        }
        certReqID = try smallInteger(id, "certReqId")
        checkAfterSeconds = try smallInteger(after, "checkAfter")
        reason = try fields.next().map { node throws(CMPError) in try FreeText.parse(node) } ?? []
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(certReqID)
            try sequence.serialize(checkAfterSeconds)
            if !reason.isEmpty { try FreeText.serialize(reason, into: &sequence) }
        }
    }
}
