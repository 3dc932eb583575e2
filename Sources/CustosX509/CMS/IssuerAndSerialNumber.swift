public import SwiftASN1
public import X509

/// How CMS names a certificate (RFC 5652 section 10.2.4), kept as the certificate encodes its parts so
/// that comparisons are byte for byte (re-encoding a serial could change its sign byte).
///
/// ```
/// IssuerAndSerialNumber ::= SEQUENCE {
///   issuer Name,
///   serialNumber CertificateSerialNumber }
/// ```
public struct IssuerAndSerialNumber: Sendable, Hashable {
    /// The issuer's `Name`, DER.
    public let issuer: [UInt8]
    /// The serial number's content octets (two's complement, big-endian).
    public let serialNumber: [UInt8]

    public init(issuer: [UInt8], serialNumber: [UInt8]) {
        self.issuer = issuer
        self.serialNumber = serialNumber
    }

    /// The issuer and serial of `certificate` (DER) as it encodes them.
    public init(certificate der: [UInt8]) throws {
        let root = try DER.parse(der)
        guard case .constructed(let top) = root.content, let tbs = top.first(where: { _ in true }),
            case .constructed(let fields) = tbs.content
        else { throw CMSError("a certificate is not an X.509 structure") }
        var iterator = fields.makeIterator()
        var field = iterator.next()
        if field?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            field = iterator.next()  // version
        }
        guard let serial = field, serial.identifier == .integer, case .primitive(let serialBytes) = serial.content,
            iterator.next() != nil,  // signature algorithm
            let issuer = iterator.next(), issuer.identifier == .sequence
        else { throw CMSError("a certificate is not an X.509 structure") }
        self.init(issuer: Array(issuer.encodedBytes), serialNumber: Array(serialBytes))
    }

    public init(certificate: Certificate) throws { try self.init(certificate: try derBytes(certificate)) }

    /// Parses the DER element `node`.
    public init(node: ASN1Node) throws {
        guard node.identifier == .sequence, case .constructed(let fields) = node.content else {
            throw CMSError("an IssuerAndSerialNumber is not a SEQUENCE")
        }
        var iterator = fields.makeIterator()
        guard let issuer = iterator.next(), issuer.identifier == .sequence, let serial = iterator.next(),
            serial.identifier == .integer, case .primitive(let serialBytes) = serial.content, !serialBytes.isEmpty,
            iterator.next() == nil
        else { throw CMSError("an IssuerAndSerialNumber is not an issuer Name and a serial number") }
        self.init(issuer: Array(issuer.encodedBytes), serialNumber: Array(serialBytes))
    }

    /// The DER `SEQUENCE`.
    public var der: [UInt8] {
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { sequence in
            sequence.serializeRawBytes(issuer)
            sequence.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serialNumber) }
        }
        return coder.serializedBytes
    }
}
