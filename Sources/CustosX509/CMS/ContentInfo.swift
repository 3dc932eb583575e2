public import SwiftASN1

/// The outer wrapper of every CMS message (RFC 5652 section 3).
///
/// ```
/// ContentInfo ::= SEQUENCE {
///   contentType ContentType,
///   content [0] EXPLICIT ANY DEFINED BY contentType }
/// ```
public struct CMSContentInfo: Sendable {
    public var contentType: ASN1ObjectIdentifier
    /// The content's DER element.
    public var content: [UInt8]

    public init(contentType: ASN1ObjectIdentifier, content: [UInt8]) {
        self.contentType = contentType
        self.content = content
    }

    /// Parses DER; anything after the structure is refused.
    public init(derEncoded bytes: [UInt8]) throws {
        let root: ASN1Node
        do { root = try DER.parse(bytes) } catch { throw CMSError("the message is not DER (\(error))") }
        var iterator = try children(of: root, .sequence, "a ContentInfo").makeIterator()
        guard let type = iterator.next(), let explicit = iterator.next(), iterator.next() == nil else {
            throw CMSError("a ContentInfo is not a type and a content")
        }
        contentType = try ASN1ObjectIdentifier(derEncoded: type)
        var inner = try children(of: explicit, .context(0), "a ContentInfo's content").makeIterator()
        guard let content = inner.next(), inner.next() == nil else {
            throw CMSError("a ContentInfo's [0] holds one element")
        }
        self.content = Array(content.encodedBytes)
    }

    public var der: [UInt8] {
        var coder = DER.Serializer()
        try? coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(contentType)
            sequence.appendConstructedNode(identifier: .context(0)) { $0.serializeRawBytes(content) }
        }
        return coder.serializedBytes
    }
}
