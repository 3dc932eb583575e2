import SwiftASN1

// Small readers shared by the CMP types: each failure is a `badDataFormat` naming what was expected.

/// The children of a constructed element with `identifier`.
func children(of node: ASN1Node, _ identifier: ASN1Identifier, _ what: String) throws(CMPError)
    -> ASN1NodeCollection
{
    guard node.identifier == identifier, case .constructed(let nodes) = node.content else {
        throw CMPError(.badDataFormat, "\(what) is not encoded as expected")
    }
    return nodes
}

/// The only child of an explicitly tagged element.
func explicit(_ node: ASN1Node, _ what: String) throws(CMPError) -> ASN1Node {
    guard case .constructed(let nodes) = node.content else {
        throw CMPError(.badDataFormat, "\(what) is not an explicitly tagged element")
    }
    var iterator = nodes.makeIterator()
    guard let inner = iterator.next(), iterator.next() == nil else {
        throw CMPError(.badDataFormat, "\(what) does not hold exactly one element")
    }
    return inner
}

/// The contents of an OCTET STRING (or of an implicitly tagged one).
func octets(_ node: ASN1Node, _ what: String, identifier: ASN1Identifier = .octetString) throws(CMPError)
    -> [UInt8]
{
    guard node.identifier == identifier, case .primitive(let bytes) = node.content else {
        throw CMPError(.badDataFormat, "\(what) is not an OCTET STRING")
    }
    return Array(bytes)
}

/// A small non-negative INTEGER (request ids, counts, reason codes).
func smallInteger(_ node: ASN1Node, _ what: String, identifier: ASN1Identifier = .integer) throws(CMPError)
    -> Int
{
    do { return try Int(derEncoded: node, withIdentifier: identifier) } catch {
        throw CMPError(.badDataFormat, "\(what) is not an INTEGER that fits 64 bits")
    }
}

/// Runs a swift-asn1 parse, turning its errors into `badDataFormat` naming `what`.
func parsing<T>(_ what: String, _ body: () throws -> T) throws(CMPError) -> T {
    do { return try body() } catch let error as CMPError { throw error } catch {
        throw CMPError(.badDataFormat, "\(what) does not parse: \(error)")
    }
}

/// The DER of a value.
func encoded(_ value: some DERSerializable) throws -> [UInt8] {
    var coder = DER.Serializer()
    try coder.serialize(value)
    return coder.serializedBytes
}

extension ASN1Identifier {
    /// `[n]` context-specific.
    static func context(_ number: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
    }
}

/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String (RFC 9810 section 5.1.1).
enum FreeText {
    static func parse(_ node: ASN1Node) throws(CMPError) -> [String] {
        var texts: [String] = []
        for element in try children(of: node, .sequence, "a PKIFreeText") {
            guard element.identifier == .utf8String, case .primitive(let bytes) = element.content,
                let text = String(validating: bytes, as: UTF8.self)
            else { throw CMPError(.badDataFormat, "a PKIFreeText holds something other than UTF8String") }
            texts.append(text)
        }
        return texts
    }

    static func serialize(_ texts: [String], into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            for text in texts { try sequence.serialize(ASN1UTF8String(text)) }
        }
    }
}
