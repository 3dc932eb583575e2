public import SwiftASN1

/// A general message item and generalInfo entry (RFC 9810 section 5.3.19).
///
/// ```
/// InfoTypeAndValue ::= SEQUENCE {
///   infoType   OBJECT IDENTIFIER,
///   infoValue  ANY DEFINED BY infoType OPTIONAL }
/// ```
public struct InfoTypeAndValue: Sendable, Hashable {
    public var type: ASN1ObjectIdentifier
    /// The value's DER element; nil when absent.
    public var value: [UInt8]?

    public init(_ type: ASN1ObjectIdentifier, value: [UInt8]? = nil) {
        self.type = type
        self.value = value
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "an InfoTypeAndValue").makeIterator()
        guard let typeNode = iterator.next() else { throw CMPError(.badDataFormat, "an InfoTypeAndValue is empty") }
        type = try parsing("an infoType") { try ASN1ObjectIdentifier(derEncoded: typeNode) }
        value = iterator.next().map { Array($0.encodedBytes) }
        guard iterator.next() == nil else { throw CMPError(.badDataFormat, "an InfoTypeAndValue has extra fields") }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(type)
            if let value { sequence.serializeRawBytes(value) }
        }
    }
}
