public import CustosX509
public import SwiftASN1
public import X509

/// The header of every CMP message (RFC 9810 section 5.1.1).
///
/// ```
/// PKIHeader ::= SEQUENCE {
///   pvno                INTEGER { cmp1999(1), cmp2000(2), cmp2021(3) },
///   sender              GeneralName,
///   recipient           GeneralName,
///   messageTime     [0] GeneralizedTime         OPTIONAL,
///   protectionAlg   [1] AlgorithmIdentifier     OPTIONAL,
///   senderKID       [2] KeyIdentifier           OPTIONAL,
///   recipKID        [3] KeyIdentifier           OPTIONAL,
///   transactionID   [4] OCTET STRING            OPTIONAL,
///   senderNonce     [5] OCTET STRING            OPTIONAL,
///   recipNonce      [6] OCTET STRING            OPTIONAL,
///   freeText        [7] PKIFreeText             OPTIONAL,
///   generalInfo     [8] SEQUENCE SIZE (1..MAX) OF InfoTypeAndValue OPTIONAL }
/// ```
/// The module has explicit tags.
public struct PKIHeader: Sendable, Hashable {
    public var pvno: Int
    public var sender: GeneralName
    public var recipient: GeneralName
    public var messageTime: GeneralizedTime?
    public var protectionAlgorithm: CMSAlgorithmIdentifier?
    public var senderKID: [UInt8]?
    public var recipientKID: [UInt8]?
    public var transactionID: [UInt8]?
    public var senderNonce: [UInt8]?
    public var recipientNonce: [UInt8]?
    public var freeText: [String]
    public var generalInfo: [InfoTypeAndValue]

    public init(
        pvno: Int,
        sender: GeneralName,
        recipient: GeneralName,
        messageTime: GeneralizedTime? = nil,
        protectionAlgorithm: CMSAlgorithmIdentifier? = nil,
        senderKID: [UInt8]? = nil,
        recipientKID: [UInt8]? = nil,
        transactionID: [UInt8]? = nil,
        senderNonce: [UInt8]? = nil,
        recipientNonce: [UInt8]? = nil,
        freeText: [String] = [],
        generalInfo: [InfoTypeAndValue] = []
    ) {
        self.pvno = pvno
        self.sender = sender
        self.recipient = recipient
        self.messageTime = messageTime
        self.protectionAlgorithm = protectionAlgorithm
        self.senderKID = senderKID
        self.recipientKID = recipientKID
        self.transactionID = transactionID
        self.senderNonce = senderNonce
        self.recipientNonce = recipientNonce
        self.freeText = freeText
        self.generalInfo = generalInfo
    }

    /// Whether generalInfo asks for (or grants) implicit confirmation.
    public var implicitConfirm: Bool { generalInfo.contains { $0.type == CMPObjectIdentifiers.implicitConfirm } }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a PKIHeader").makeIterator()
        guard let pvnoNode = iterator.next(), let senderNode = iterator.next(), let recipientNode = iterator.next()
        else { throw CMPError(.badDataFormat, "a PKIHeader lacks pvno, sender or recipient") }
        pvno = try smallInteger(pvnoNode, "pvno")
        sender = try parsing("the sender") { try GeneralName(derEncoded: senderNode) }
        recipient = try parsing("the recipient") { try GeneralName(derEncoded: recipientNode) }
        freeText = []
        generalInfo = []
        var last: UInt = 0
        var seen = false
        while let field = iterator.next() {
            guard field.identifier.tagClass == .contextSpecific, field.identifier.tagNumber <= 8,
                !seen || field.identifier.tagNumber > last
            else { throw CMPError(.badDataFormat, "a PKIHeader has a field out of order or unknown") }
            seen = true
            last = field.identifier.tagNumber
            let inner = try explicit(field, "a PKIHeader field")
            switch field.identifier.tagNumber {
            case 0: messageTime = try parsing("messageTime") { try GeneralizedTime(derEncoded: inner) }
            case 1: protectionAlgorithm = try parsing("protectionAlg") { try CMSAlgorithmIdentifier(node: inner) }
            case 2: senderKID = try octets(inner, "senderKID")
            case 3: recipientKID = try octets(inner, "recipKID")
            case 4: transactionID = try octets(inner, "transactionID")
            case 5: senderNonce = try octets(inner, "senderNonce")
            case 6: recipientNonce = try octets(inner, "recipNonce")
            case 7: freeText = try FreeText.parse(inner)
            default:
                generalInfo = try children(of: inner, .sequence, "generalInfo").map {
                    node throws(CMPError) in try InfoTypeAndValue(node: node)
                }
            }
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(pvno)
            try sequence.serialize(sender)
            try sequence.serialize(recipient)
            func tagged(_ number: UInt, _ body: (inout DER.Serializer) throws -> Void) throws {
                try sequence.appendConstructedNode(identifier: .context(number), body)
            }
            if let messageTime { try tagged(0) { try $0.serialize(messageTime) } }
            if let protectionAlgorithm { try tagged(1) { try protectionAlgorithm.serialize(into: &$0) } }
            let octetFields: [(UInt, [UInt8]?)] = [
                (2, senderKID), (3, recipientKID), (4, transactionID), (5, senderNonce), (6, recipientNonce),
            ]
            for (number, value) in octetFields {
                if let value { try tagged(number) { try $0.serialize(ASN1OctetString(contentBytes: value[...])) } }
            }
            if !freeText.isEmpty { try tagged(7) { try FreeText.serialize(freeText, into: &$0) } }
            if !generalInfo.isEmpty {
                try tagged(8) { info in
                    try info.appendConstructedNode(identifier: .sequence) { list in
                        for item in generalInfo { try item.serialize(into: &list) }
                    }
                }
            }
        }
    }
}
