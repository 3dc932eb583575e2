public import SwiftASN1

/// One CMS attribute (RFC 5652 section 5.3), its values kept as their DER elements.
///
/// ```
/// Attribute ::= SEQUENCE {
///   attrType OBJECT IDENTIFIER,
///   attrValues SET OF AttributeValue }
/// ```
public struct CMSAttribute: Sendable, Hashable {
    public var type: ASN1ObjectIdentifier
    /// Each value as one DER element.
    public var values: [[UInt8]]

    public init(type: ASN1ObjectIdentifier, values: [[UInt8]]) {
        self.type = type
        self.values = values
    }

    /// An attribute with one value made by `value`.
    public init(type: ASN1ObjectIdentifier, value: some DERSerializable) throws {
        self.init(type: type, values: [try derBytes(value)])
    }

    init(node: ASN1Node) throws {
        guard node.identifier == .sequence, case .constructed(let fields) = node.content else {
            throw CMSError("an attribute is not a SEQUENCE")
        }
        var iterator = fields.makeIterator()
        guard let typeNode = iterator.next(), let set = iterator.next(), iterator.next() == nil,
            set.identifier == .set, case .constructed(let members) = set.content
        else { throw CMSError("an attribute is not a type and a SET of values") }
        type = try ASN1ObjectIdentifier(derEncoded: typeNode)
        values = members.map { Array($0.encodedBytes) }
        guard !values.isEmpty else { throw CMSError("attribute \(type) has no value") }
    }

    /// The single value of the attribute, or an error naming it when there are several.
    public func singleValue() throws -> [UInt8] {
        guard values.count == 1 else { throw CMSError("attribute \(type) must have exactly one value") }
        return values[0]
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { attribute in
            try attribute.serialize(type)
            attribute.appendConstructedNode(identifier: .set) { set in
                // DER orders a SET OF by the members' encodings.
                for value in values.sorted(by: { $0.lexicographicallyPrecedes($1) }) { set.serializeRawBytes(value) }
            }
        }
    }
}

extension Array where Element == CMSAttribute {
    /// The attribute of `type`, if present; an error if it appears more than once (RFC 5652 section 5.3
    /// allows each signed attribute type once).
    public func first(_ type: ASN1ObjectIdentifier) throws -> CMSAttribute? {
        let matching = filter { $0.type == type }
        guard matching.count <= 1 else { throw CMSError("attribute \(type) appears more than once") }
        return matching.first
    }
}
