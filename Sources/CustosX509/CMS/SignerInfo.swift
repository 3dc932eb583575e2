import SwiftASN1

/// One signer of a SignedData (RFC 5652 section 5.3).
///
/// ```
/// SignerInfo ::= SEQUENCE {
///   version CMSVersion,
///   sid SignerIdentifier,
///   digestAlgorithm DigestAlgorithmIdentifier,
///   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
///   signatureAlgorithm SignatureAlgorithmIdentifier,
///   signature SignatureValue,
///   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
///
/// SignerIdentifier ::= CHOICE {
///   issuerAndSerialNumber IssuerAndSerialNumber,
///   subjectKeyIdentifier [0] SubjectKeyIdentifier }
/// ```
public struct CMSSignerInfo: Sendable {
    public enum Identifier: Sendable, Hashable {
        case issuerAndSerialNumber(IssuerAndSerialNumber)
        case subjectKeyIdentifier([UInt8])
    }

    public var identifier: Identifier
    public var digestAlgorithm: CMSAlgorithmIdentifier
    public var signedAttributes: [CMSAttribute]
    /// What the signature covers: the signed attributes as received, re-tagged as a `SET OF` (section
    /// 5.4); nil when the signer signed the content itself.
    public var signedAttributesDER: [UInt8]?
    public var signatureAlgorithm: CMSAlgorithmIdentifier
    public var signature: [UInt8]

    public init(
        identifier: Identifier,
        digestAlgorithm: CMSAlgorithmIdentifier,
        signedAttributes: [CMSAttribute],
        signatureAlgorithm: CMSAlgorithmIdentifier,
        signature: [UInt8]
    ) throws {
        self.identifier = identifier
        self.digestAlgorithm = digestAlgorithm
        self.signedAttributes = signedAttributes
        self.signedAttributesDER = try Self.encode(signedAttributes)
        self.signatureAlgorithm = signatureAlgorithm
        self.signature = signature
    }

    /// The DER `SET OF Attribute` a signer signs: the attributes sorted by encoding, tagged as SET.
    public static func encode(_ attributes: [CMSAttribute]) throws -> [UInt8] {
        var encoded: [[UInt8]] = []
        for attribute in attributes {
            var coder = DER.Serializer()
            try attribute.serialize(into: &coder)
            encoded.append(coder.serializedBytes)
        }
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .set) { set in
            for element in encoded.sorted(by: { $0.lexicographicallyPrecedes($1) }) { set.serializeRawBytes(element) }
        }
        return coder.serializedBytes
    }

    init(node: ASN1Node) throws {
        var iterator = try children(of: node, .sequence, "a SignerInfo").makeIterator()
        guard let versionNode = iterator.next(), let sid = iterator.next(), let digest = iterator.next(),
            var next = iterator.next()
        else { throw CMSError("a SignerInfo is incomplete") }
        let version = try Int(derEncoded: versionNode)
        switch (version, sid.identifier) {
        case (1, .sequence): identifier = .issuerAndSerialNumber(try IssuerAndSerialNumber(node: sid))
        case (3, .context(0)): identifier = .subjectKeyIdentifier(try octets(of: sid, .context(0), "a signer's key id"))
        default: throw CMSError("a SignerInfo has version \(version) with a signer identifier it does not allow")
        }
        digestAlgorithm = try CMSAlgorithmIdentifier(node: digest)
        if next.identifier == .context(0) {
            let attributes = try children(of: next, .context(0), "signed attributes")
            signedAttributes = try attributes.map(CMSAttribute.init(node:))
            guard !signedAttributes.isEmpty else { throw CMSError("the signed attributes are empty") }
            // The signature covers the attributes exactly as sent, with the SET tag (section 5.4).
            var signed = Array(next.encodedBytes)
            signed[0] = 0x31
            signedAttributesDER = signed
            guard let following = iterator.next() else { throw CMSError("a SignerInfo has no signature") }
            next = following
        } else {
            signedAttributes = []
            signedAttributesDER = nil
        }
        signatureAlgorithm = try CMSAlgorithmIdentifier(node: next)
        guard let signatureNode = iterator.next() else { throw CMSError("a SignerInfo has no signature") }
        signature = try octets(of: signatureNode, .octetString, "a signature")
        if let unsigned = iterator.next(), unsigned.identifier != .context(1) {
            throw CMSError("a SignerInfo has an unexpected field after its signature")
        }
        guard iterator.next() == nil else { throw CMSError("a SignerInfo has extra fields") }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            switch identifier {
            case .issuerAndSerialNumber(let name):
                try sequence.serialize(1)
                sequence.serializeRawBytes(name.der)
            case .subjectKeyIdentifier(let keyID):
                try sequence.serialize(3)
                sequence.appendPrimitiveNode(identifier: .context(0)) { $0.append(contentsOf: keyID) }
            }
            try digestAlgorithm.serialize(into: &sequence)
            if var signed = signedAttributesDER {
                signed[0] = 0xA0  // [0] IMPLICIT
                sequence.serializeRawBytes(signed)
            }
            try signatureAlgorithm.serialize(into: &sequence)
            try sequence.serialize(ASN1OctetString(contentBytes: signature[...]))
        }
    }
}
