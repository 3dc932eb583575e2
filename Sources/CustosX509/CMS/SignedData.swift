public import SwiftASN1

/// A CMS SignedData (RFC 5652 section 5) as SCEP and EST use it: encapsulated content, certificates,
/// CRLs and signers, parsed from and encoded to DER (BER from a client is refused with a clear error).
///
/// ```
/// SignedData ::= SEQUENCE {
///   version CMSVersion,
///   digestAlgorithms DigestAlgorithmIdentifiers,
///   encapContentInfo EncapsulatedContentInfo,
///   certificates [0] IMPLICIT CertificateSet OPTIONAL,
///   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
///   signerInfos SignerInfos }
///
/// EncapsulatedContentInfo ::= SEQUENCE {
///   eContentType ContentType,
///   eContent [0] EXPLICIT OCTET STRING OPTIONAL }
/// ```
public struct CMSSignedDataMessage: Sendable {
    public var contentType: ASN1ObjectIdentifier
    /// The encapsulated content's octets; nil when detached or certs-only.
    public var content: [UInt8]?
    /// Each certificate's DER, in the order sent.
    public var certificates: [[UInt8]]
    /// Each CRL's DER.
    public var crls: [[UInt8]]
    public var signers: [CMSSignerInfo]

    public init(
        contentType: ASN1ObjectIdentifier = CMSObjectIdentifiers.data,
        content: [UInt8]?,
        certificates: [[UInt8]] = [],
        crls: [[UInt8]] = [],
        signers: [CMSSignerInfo] = []
    ) {
        self.contentType = contentType
        self.content = content
        self.certificates = certificates
        self.crls = crls
        self.signers = signers
    }

    /// Parses a `ContentInfo` holding a SignedData.
    public init(derEncoded bytes: [UInt8]) throws {
        let info = try CMSContentInfo(derEncoded: bytes)
        guard info.contentType == CMSObjectIdentifiers.signedData else {
            throw CMSError("the message is \(info.contentType), not a SignedData")
        }
        try self.init(signedData: try DER.parse(info.content))
    }

    init(signedData node: ASN1Node) throws {
        var iterator = try children(of: node, .sequence, "a SignedData").makeIterator()
        guard let version = iterator.next(), let digests = iterator.next(), let encapsulated = iterator.next() else {
            throw CMSError("a SignedData is incomplete")
        }
        guard (1...5).contains(try Int(derEncoded: version)) else {
            throw CMSError("a SignedData's version is unknown")
        }
        _ = try children(of: digests, .set, "a SignedData's digest algorithms")
        var inner = try children(of: encapsulated, .sequence, "the encapsulated content").makeIterator()
        guard let type = inner.next() else { throw CMSError("the encapsulated content has no type") }
        contentType = try ASN1ObjectIdentifier(derEncoded: type)
        if let explicit = inner.next() {
            var octetNodes = try children(of: explicit, .context(0), "the encapsulated content").makeIterator()
            guard let octetString = octetNodes.next(), octetNodes.next() == nil, inner.next() == nil else {
                throw CMSError("the encapsulated content holds one OCTET STRING")
            }
            content = try octets(of: octetString, .octetString, "the encapsulated content")
        } else {
            content = nil
        }
        var next = iterator.next()
        certificates = []
        crls = []
        if let node = next, node.identifier == .context(0) {
            certificates = try children(of: node, .context(0), "the certificates").map { Array($0.encodedBytes) }
            next = iterator.next()
        }
        if let node = next, node.identifier == .context(1) {
            crls = try children(of: node, .context(1), "the CRLs").map { Array($0.encodedBytes) }
            next = iterator.next()
        }
        guard let signerSet = next, iterator.next() == nil else { throw CMSError("a SignedData has no signer set") }
        signers = try children(of: signerSet, .set, "the signer infos").map(CMSSignerInfo.init(node:))
    }

    /// The `ContentInfo` holding this SignedData, DER.
    public func der() throws -> [UInt8] {
        var digestAlgorithms: [[UInt8]] = []
        for signer in signers {
            var coder = DER.Serializer()
            try signer.digestAlgorithm.serialize(into: &coder)
            if !digestAlgorithms.contains(coder.serializedBytes) { digestAlgorithms.append(coder.serializedBytes) }
        }
        let version =
            signers.contains { if case .subjectKeyIdentifier = $0.identifier { true } else { false } }
                || contentType != CMSObjectIdentifiers.data ? 3 : 1
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { signedData in
            try signedData.serialize(version)
            signedData.appendConstructedNode(identifier: .set) { set in
                for algorithm in digestAlgorithms.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    set.serializeRawBytes(algorithm)
                }
            }
            try signedData.appendConstructedNode(identifier: .sequence) { encapsulated in
                try encapsulated.serialize(contentType)
                if let content {
                    try encapsulated.appendConstructedNode(identifier: .context(0)) {
                        try $0.serialize(ASN1OctetString(contentBytes: content[...]))
                    }
                }
            }
            if !certificates.isEmpty {
                signedData.appendConstructedNode(identifier: .context(0)) { set in
                    for certificate in certificates.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                        set.serializeRawBytes(certificate)
                    }
                }
            }
            if !crls.isEmpty {
                signedData.appendConstructedNode(identifier: .context(1)) { set in
                    for crl in crls.sorted(by: { $0.lexicographicallyPrecedes($1) }) { set.serializeRawBytes(crl) }
                }
            }
            try signedData.appendConstructedNode(identifier: .set) { set in
                for signer in signers { try signer.serialize(into: &set) }
            }
        }
        return CMSContentInfo(contentType: CMSObjectIdentifiers.signedData, content: coder.serializedBytes).der
    }
}
