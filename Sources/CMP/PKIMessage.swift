import CustosX509
import SwiftASN1
import X509

/// A CMP message (RFC 9810 section 5.1).
///
/// ```
/// PKIMessage ::= SEQUENCE {
///   header           PKIHeader,
///   body             PKIBody,
///   protection   [0] PKIProtection OPTIONAL,   -- BIT STRING
///   extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL }
/// ProtectedPart ::= SEQUENCE { header PKIHeader, body PKIBody }
/// ```
/// A message read from the wire keeps its header and body exactly as received: the protection covers
/// those bytes.
public struct PKIMessage: Sendable, Hashable {
    public var header: PKIHeader
    public var body: PKIBody
    public var protection: [UInt8]?
    /// Certificates in DER; with signature protection the first is the signer's (RFC 9483 section 3.3).
    public var extraCerts: [[UInt8]]
    /// DER of `SEQUENCE { header, body }` as received or written: what the protection covers.
    public private(set) var protectedPart: [UInt8]
    /// The whole message as received or written.
    public private(set) var der: [UInt8]

    /// The largest message read (a CMP message with a certificate chain is a few KiB).
    public static let maximumSize = 256 * 1024

    /// Reads a message; throws `badDataFormat` for anything that is not one.
    public init(derEncoded bytes: [UInt8]) throws(CMPError) {
        guard bytes.count <= Self.maximumSize else {
            throw CMPError(.badDataFormat, "the message is larger than \(Self.maximumSize) bytes")
        }
        try self.init(node: try parsing("the message") { try DER.parse(bytes) })
        guard der.count == bytes.count else { throw CMPError(.badDataFormat, "bytes follow the message") }
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a PKIMessage").makeIterator()
        guard let headerNode = iterator.next(), let bodyNode = iterator.next() else {
            throw CMPError(.badDataFormat, "a PKIMessage lacks its header or body")
        }
        header = try PKIHeader(node: headerNode)
        body = try PKIBody(node: bodyNode)
        protection = nil
        extraCerts = []
        while let field = iterator.next() {
            switch field.identifier {
            case .context(0) where protection == nil && extraCerts.isEmpty:
                let bits = try parsing("the protection") {
                    try ASN1BitString(derEncoded: try explicit(field, "protection"))
                }
                protection = Array(bits.bytes)
            case .context(1) where extraCerts.isEmpty:
                extraCerts = try children(of: try explicit(field, "extraCerts"), .sequence, "extraCerts").map {
                    Array($0.encodedBytes)
                }
            default: throw CMPError(.badDataFormat, "a PKIMessage has an unexpected field")
            }
        }
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { part in
            part.serializeRawBytes(headerNode.encodedBytes)
            part.serializeRawBytes(bodyNode.encodedBytes)
        }
        protectedPart = coder.serializedBytes
        der = Array(node.encodedBytes)
    }

    /// The DER of `SEQUENCE { header, body }`: what a protection covers.
    public static func protectedPart(header: PKIHeader, body: PKIBody) throws -> [UInt8] {
        var part = DER.Serializer()
        try part.appendConstructedNode(identifier: .sequence) { sequence in
            try header.serialize(into: &sequence)
            try body.serialize(into: &sequence)
        }
        return part.serializedBytes
    }

    /// A message to send with its protection computed already (nil: unprotected).
    public init(header: PKIHeader, body: PKIBody, extraCerts: [[UInt8]] = [], protection: [UInt8]?) throws {
        try self.init(
            header: header,
            body: body,
            extraCerts: extraCerts,
            protectedPart: try Self.protectedPart(header: header, body: body),
            protection: protection
        )
    }

    private init(header: PKIHeader, body: PKIBody, extraCerts: [[UInt8]], protectedPart: [UInt8], protection: [UInt8]?)
        throws
    {
        self.header = header
        self.body = body
        self.extraCerts = extraCerts
        self.protection = protection
        self.protectedPart = protectedPart
        var coder = DER.Serializer()
        let contents = protectedPart.dropFirst(Self.headerLength(of: protectedPart))
        try coder.appendConstructedNode(identifier: .sequence) { message in
            message.serializeRawBytes(contents)
            if let protection {
                try message.appendConstructedNode(identifier: .context(0)) {
                    try $0.serialize(ASN1BitString(bytes: protection[...]))
                }
            }
            if !extraCerts.isEmpty {
                message.appendConstructedNode(identifier: .context(1)) { tagged in
                    tagged.appendConstructedNode(identifier: .sequence) { list in
                        for certificate in extraCerts { list.serializeRawBytes(certificate) }
                    }
                }
            }
        }
        der = coder.serializedBytes
    }

    /// A message to send: `protect` computes the protection over the protected part (nil: unprotected).
    public init(
        header: PKIHeader,
        body: PKIBody,
        extraCerts: [[UInt8]] = [],
        protect: (_ protectedPart: [UInt8]) async throws -> [UInt8]?
    ) async throws {
        let part = try Self.protectedPart(header: header, body: body)
        let protection = try await protect(part)
        try self.init(header: header, body: body, extraCerts: extraCerts, protectedPart: part, protection: protection)
    }

    /// The length of a DER element's tag and length octets.
    private static func headerLength(of element: [UInt8]) -> Int {
        guard element.count > 1 else { return element.count }
        return element[1] < 0x80 ? 2 : 2 + Int(element[1] & 0x7F)
    }
}
