public import SwiftASN1

/// An algorithm and its parameters as sent (RFC 5280 section 4.1.1.2), parameters kept as one DER
/// element so that each user reads them as its algorithm defines.
///
/// ```
/// AlgorithmIdentifier ::= SEQUENCE {
///   algorithm OBJECT IDENTIFIER,
///   parameters ANY DEFINED BY algorithm OPTIONAL }
/// ```
public struct CMSAlgorithmIdentifier: Sendable, Hashable {
    public var algorithm: ASN1ObjectIdentifier
    /// The parameters' DER element, absent when the algorithm has none.
    public var parameters: [UInt8]?

    public init(_ algorithm: ASN1ObjectIdentifier, parameters: [UInt8]? = nil) {
        self.algorithm = algorithm
        self.parameters = parameters
    }

    public init(node: ASN1Node) throws {
        guard node.identifier == .sequence, case .constructed(let fields) = node.content else {
            throw CMSError("an AlgorithmIdentifier is not a SEQUENCE")
        }
        var iterator = fields.makeIterator()
        guard let oid = iterator.next() else { throw CMSError("an AlgorithmIdentifier has no algorithm") }
        algorithm = try ASN1ObjectIdentifier(derEncoded: oid)
        parameters = iterator.next().map { Array($0.encodedBytes) }
        guard iterator.next() == nil else { throw CMSError("an AlgorithmIdentifier has extra fields") }
    }

    /// Whether the parameters are absent or NULL (hash algorithms may be sent either way, RFC 5754 section 2).
    public var hasNoParameters: Bool { parameters == nil || parameters == [0x05, 0x00] }

    public func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(algorithm)
            if let parameters { sequence.serializeRawBytes(parameters) }
        }
    }
}

/// The children of a constructed DER element, or an error naming what was expected.
func children(of node: ASN1Node, _ identifier: ASN1Identifier, _ what: String) throws -> ASN1NodeCollection {
    guard node.identifier == identifier, case .constructed(let nodes) = node.content else {
        throw CMSError("\(what) is not encoded as expected")
    }
    return nodes
}

/// The content octets of a primitive DER element with `identifier`.
func octets(of node: ASN1Node, _ identifier: ASN1Identifier, _ what: String) throws -> [UInt8] {
    guard node.identifier == identifier, case .primitive(let bytes) = node.content else {
        throw CMSError("\(what) is not encoded as expected")
    }
    return Array(bytes)
}

extension ASN1Identifier {
    /// `[n]` in a CMS structure.
    static func context(_ number: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
    }
}
