import SwiftASN1

/// The body of a CMP message: what it asks or answers (RFC 9810 section 5.1.2). The kinds the Lightweight
/// CMP Profile (RFC 9483) uses are read and written; others are kept by tag so that they can be refused.
///
/// ```
/// PKIBody ::= CHOICE {
///   ir [0] CertReqMessages,  ip [1] CertRepMessage,  cr [2] CertReqMessages,  cp [3] CertRepMessage,
///   p10cr [4] CertificationRequest,  kur [7] CertReqMessages,  kup [8] CertRepMessage,
///   rr [11] RevReqContent,  rp [12] RevRepContent,  pkiconf [19] PKIConfirmContent,
///   nested [20] NestedMessageContent,  genm [21] GenMsgContent,  genp [22] GenRepContent,
///   error [23] ErrorMsgContent,  certConf [24] CertConfirmContent,  pollReq [25] PollReqContent,
///   pollRep [26] PollRepContent,  ... }
/// ```
public enum PKIBody: Sendable, Hashable {
    case ir([CertReqMessage])
    case ip(CertRepMessage)
    case cr([CertReqMessage])
    case cp(CertRepMessage)
    /// A PKCS#10 request in DER.
    case p10cr([UInt8])
    case kur([CertReqMessage])
    case kup(CertRepMessage)
    case rr([RevocationDetails])
    case rp(RevocationResponse)
    case pkiConf
    /// Messages an RA forwards (each kept as received, for its own protection check).
    case nested([PKIMessage])
    case genm([InfoTypeAndValue])
    case genp([InfoTypeAndValue])
    case error(ErrorMessage)
    case certConf([CertStatus])
    case pollReq([Int])
    case pollRep([PollResponse])
    /// A body kind this implementation does not handle, by its tag.
    case unsupported(tag: UInt)

    /// The tag number of this kind.
    public var tag: UInt {
        switch self {
        case .ir: 0
        case .ip: 1
        case .cr: 2
        case .cp: 3
        case .p10cr: 4
        case .kur: 7
        case .kup: 8
        case .rr: 11
        case .rp: 12
        case .pkiConf: 19
        case .nested: 20
        case .genm: 21
        case .genp: 22
        case .error: 23
        case .certConf: 24
        case .pollReq: 25
        case .pollRep: 26
        case .unsupported(let tag): tag
        }
    }

    /// The short name of a body kind (`ir`, `certConf`, …) for logs and audit entries.
    public var name: String { Self.name(tag: tag) }

    public static func name(tag: UInt) -> String {
        let names = [
            "ir", "ip", "cr", "cp", "p10cr", "popdecc", "popdecr", "kur", "kup", "krr", "krp", "rr", "rp", "ccr", "ccp",
            "ckuann", "cann", "rann", "crlann", "pkiconf", "nested", "genm", "genp", "error", "certConf", "pollReq",
            "pollRep",
        ]
        return tag < names.count ? names[Int(tag)] : "body [\(tag)]"
    }

    init(node: ASN1Node) throws(CMPError) {
        guard node.identifier.tagClass == .contextSpecific else {
            throw CMPError(.badDataFormat, "a PKIBody is not a tagged choice")
        }
        let tag = node.identifier.tagNumber
        let content = { () throws(CMPError) -> ASN1Node in try explicit(node, "the \(Self.name(tag: tag)) body") }
        func requests() throws(CMPError) -> [CertReqMessage] {
            let list = try children(of: try content(), .sequence, "CertReqMessages").map { node throws(CMPError) in
                try CertReqMessage(node: node)
            }
            guard !list.isEmpty else { throw CMPError(.badDataFormat, "CertReqMessages is empty") }
            return list
        }
        func items() throws(CMPError) -> [InfoTypeAndValue] {
            try children(of: try content(), .sequence, "a GenMsgContent").map { node throws(CMPError) in
                try InfoTypeAndValue(node: node)
            }
        }
        switch tag {
        case 0: self = .ir(try requests())
        case 1: self = .ip(try CertRepMessage(node: try content()))
        case 2: self = .cr(try requests())
        case 3: self = .cp(try CertRepMessage(node: try content()))
        case 4:
            let request = try content()
            guard request.identifier == .sequence else {
                throw CMPError(.badDataFormat, "a p10cr body is not a PKCS#10 request")
            }
            self = .p10cr(Array(request.encodedBytes))
        case 7: self = .kur(try requests())
        case 8: self = .kup(try CertRepMessage(node: try content()))
        case 11:
            self = .rr(
                try children(of: try content(), .sequence, "a RevReqContent").map { node throws(CMPError) in
                    try RevocationDetails(node: node)
                }
            )
        case 12: self = .rp(try RevocationResponse(node: try content()))
        case 19: self = .pkiConf
        case 20:
            self = .nested(
                try children(of: try content(), .sequence, "NestedMessageContent").map { node throws(CMPError) in
                    try PKIMessage(node: node)
                }
            )
        case 21: self = .genm(try items())
        case 22: self = .genp(try items())
        case 23: self = .error(try ErrorMessage(node: try content()))
        case 24:
            self = .certConf(
                try children(of: try content(), .sequence, "a CertConfirmContent").map { node throws(CMPError) in
                    try CertStatus(node: node)
                }
            )
        case 25: self = .pollReq(try PollResponse.parseRequest(try content()))
        case 26:
            self = .pollRep(
                try children(of: try content(), .sequence, "a PollRepContent").map { node throws(CMPError) in
                    try PollResponse(node: node)
                }
            )
        default: self = .unsupported(tag: tag)
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .context(tag)) { body in
            func list(_ write: (inout DER.Serializer) throws -> Void) throws {
                try body.appendConstructedNode(identifier: .sequence, write)
            }
            switch self {
            case .ir(let requests), .cr(let requests), .kur(let requests):
                try list { for request in requests { try request.serialize(into: &$0) } }
            case .ip(let answer), .cp(let answer), .kup(let answer): try answer.serialize(into: &body)
            case .p10cr(let request): body.serializeRawBytes(request)
            case .rr(let revocations):
                try list { for revocation in revocations { try revocation.serialize(into: &$0) } }
            case .rp(let answer): try answer.serialize(into: &body)
            case .pkiConf: try body.serialize(ASN1Null())
            case .nested(let messages): try list { for message in messages { $0.serializeRawBytes(message.der) } }
            case .genm(let items), .genp(let items): try list { for item in items { try item.serialize(into: &$0) } }
            case .error(let error): try error.serialize(into: &body)
            case .certConf(let statuses): try list { for status in statuses { try status.serialize(into: &$0) } }
            case .pollReq(let ids):
                try list {
                    for id in ids { try $0.appendConstructedNode(identifier: .sequence) { try $0.serialize(id) } }
                }
            case .pollRep(let answers): try list { for answer in answers { try answer.serialize(into: &$0) } }
            case .unsupported: throw CMPError(.badRequest, "an unsupported body cannot be written")
            }
        }
    }
}
