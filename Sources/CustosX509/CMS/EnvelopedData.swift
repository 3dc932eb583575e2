public import SwiftASN1

/// A CMS EnvelopedData with key-transport recipients (RFC 5652 section 6): content encrypted under a
/// content-encryption key that is itself encrypted to each recipient's RSA key. Only the structure
/// lives here; the keys never do (the HSM decrypts and encrypts).
///
/// ```
/// EnvelopedData ::= SEQUENCE {
///   version CMSVersion,
///   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
///   recipientInfos RecipientInfos,
///   encryptedContentInfo EncryptedContentInfo,
///   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
///
/// KeyTransRecipientInfo ::= SEQUENCE {
///   version CMSVersion,  -- always set to 0 or 2
///   rid RecipientIdentifier,
///   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
///   encryptedKey EncryptedKey }
///
/// EncryptedContentInfo ::= SEQUENCE {
///   contentType ContentType,
///   contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///   encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
/// ```
public struct CMSEnvelopedData: Sendable {
    /// One key-transport recipient (section 6.2.1).
    public struct Recipient: Sendable, Hashable {
        public var identifier: CMSSignerInfo.Identifier
        public var keyEncryptionAlgorithm: CMSAlgorithmIdentifier
        public var encryptedKey: [UInt8]

        public init(
            identifier: CMSSignerInfo.Identifier,
            keyEncryptionAlgorithm: CMSAlgorithmIdentifier = CMSAlgorithmIdentifier(
                CMSObjectIdentifiers.rsaEncryption,
                parameters: [0x05, 0x00]
            ),
            encryptedKey: [UInt8]
        ) {
            self.identifier = identifier
            self.keyEncryptionAlgorithm = keyEncryptionAlgorithm
            self.encryptedKey = encryptedKey
        }
    }

    public var recipients: [Recipient]
    public var contentType: ASN1ObjectIdentifier
    public var contentEncryption: ContentEncryptionAlgorithm
    public var iv: [UInt8]
    public var encryptedContent: [UInt8]

    public init(
        recipients: [Recipient],
        contentType: ASN1ObjectIdentifier = CMSObjectIdentifiers.data,
        contentEncryption: ContentEncryptionAlgorithm,
        iv: [UInt8],
        encryptedContent: [UInt8]
    ) {
        self.recipients = recipients
        self.contentType = contentType
        self.contentEncryption = contentEncryption
        self.iv = iv
        self.encryptedContent = encryptedContent
    }

    /// Parses a `ContentInfo` holding an EnvelopedData. Recipients other than key transport (key
    /// agreement, KEK, password) are skipped; a message with none left is refused.
    public init(derEncoded bytes: [UInt8]) throws {
        let info = try CMSContentInfo(derEncoded: bytes)
        guard info.contentType == CMSObjectIdentifiers.envelopedData else {
            throw CMSError("the message is \(info.contentType), not an EnvelopedData")
        }
        var iterator = try children(of: try DER.parse(info.content), .sequence, "an EnvelopedData").makeIterator()
        guard let version = iterator.next(), var next = iterator.next() else {
            throw CMSError("an EnvelopedData is incomplete")
        }
        guard (0...4).contains(try Int(derEncoded: version)) else {
            throw CMSError("an EnvelopedData's version is unknown")
        }
        if next.identifier == .context(0) {  // originatorInfo
            guard let following = iterator.next() else { throw CMSError("an EnvelopedData is incomplete") }
            next = following
        }
        var recipients: [Recipient] = []
        for info in try children(of: next, .set, "the recipient infos") where info.identifier == .sequence {
            var fields = try children(of: info, .sequence, "a recipient").makeIterator()
            guard let versionNode = fields.next(), let rid = fields.next(), let algorithm = fields.next(),
                let key = fields.next(), fields.next() == nil
            else { throw CMSError("a key-transport recipient is incomplete") }
            let identifier: CMSSignerInfo.Identifier
            switch (try Int(derEncoded: versionNode), rid.identifier) {
            case (0, .sequence): identifier = .issuerAndSerialNumber(try IssuerAndSerialNumber(node: rid))
            case (2, .context(0)): identifier = .subjectKeyIdentifier(try octets(of: rid, .context(0), "a key id"))
            default: throw CMSError("a key-transport recipient's version and identifier do not match")
            }
            recipients.append(
                Recipient(
                    identifier: identifier,
                    keyEncryptionAlgorithm: try CMSAlgorithmIdentifier(node: algorithm),
                    encryptedKey: try octets(of: key, .octetString, "an encrypted key")
                )
            )
        }
        guard !recipients.isEmpty else { throw CMSError("the EnvelopedData has no key-transport recipient") }
        self.recipients = recipients
        guard let encrypted = iterator.next() else { throw CMSError("an EnvelopedData has no encrypted content") }
        var fields = try children(of: encrypted, .sequence, "the encrypted content info").makeIterator()
        guard let type = fields.next(), let algorithmNode = fields.next(), let contentNode = fields.next(),
            fields.next() == nil
        else { throw CMSError("the encrypted content is missing (detached content is not supported)") }
        contentType = try ASN1ObjectIdentifier(derEncoded: type)
        let algorithm = try CMSAlgorithmIdentifier(node: algorithmNode)
        guard let cipher = ContentEncryptionAlgorithm(oid: algorithm.algorithm) else {
            throw CMSError("content encryption \(algorithm.algorithm) is not supported (AES-CBC or DES-EDE3-CBC are)")
        }
        contentEncryption = cipher
        guard let parameters = algorithm.parameters,
            let iv = try? octets(of: try DER.parse(parameters), .octetString, "the IV"),
            iv.count == cipher.blockLength
        else { throw CMSError("the \(cipher.rawValue) IV is not an OCTET STRING of \(cipher.blockLength) bytes") }
        self.iv = iv
        switch contentNode.content {
        case .primitive(let bytes) where contentNode.identifier == .context(0):
            encryptedContent = Array(bytes)
        default:
            throw CMSError("the encrypted content is not a primitive [0] OCTET STRING")
        }
        guard !encryptedContent.isEmpty, encryptedContent.count % cipher.blockLength == 0 else {
            throw CMSError("the encrypted content is not a whole number of \(cipher.rawValue) blocks")
        }
    }

    /// The `ContentInfo` holding this EnvelopedData, DER (version 0: key-transport recipients named by
    /// issuer and serial; 2 when one is named by key id).
    public func der() throws -> [UInt8] {
        let byKeyID = recipients.contains { if case .subjectKeyIdentifier = $0.identifier { true } else { false } }
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { envelope in
            try envelope.serialize(byKeyID ? 2 : 0)
            try envelope.appendConstructedNode(identifier: .set) { set in
                var encoded: [[UInt8]] = []
                for recipient in recipients {
                    var element = DER.Serializer()
                    try element.appendConstructedNode(identifier: .sequence) { info in
                        switch recipient.identifier {
                        case .issuerAndSerialNumber(let name):
                            try info.serialize(0)
                            info.serializeRawBytes(name.der)
                        case .subjectKeyIdentifier(let keyID):
                            try info.serialize(2)
                            info.appendPrimitiveNode(identifier: .context(0)) { $0.append(contentsOf: keyID) }
                        }
                        try recipient.keyEncryptionAlgorithm.serialize(into: &info)
                        try info.serialize(ASN1OctetString(contentBytes: recipient.encryptedKey[...]))
                    }
                    encoded.append(element.serializedBytes)
                }
                for element in encoded.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    set.serializeRawBytes(element)
                }
            }
            try envelope.appendConstructedNode(identifier: .sequence) { encrypted in
                try encrypted.serialize(contentType)
                try CMSAlgorithmIdentifier(
                    contentEncryption.oid,
                    parameters: try derBytes(ASN1OctetString(contentBytes: iv[...]))
                )
                .serialize(into: &encrypted)
                encrypted.appendPrimitiveNode(identifier: .context(0)) { $0.append(contentsOf: encryptedContent) }
            }
        }
        return CMSContentInfo(contentType: CMSObjectIdentifiers.envelopedData, content: coder.serializedBytes).der
    }
}
