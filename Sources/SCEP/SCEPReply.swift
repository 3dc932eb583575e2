import Crypto
public import CustosX509
import SwiftASN1

/// A CertRep (RFC 8894 section 3.3.2): a SignedData by the RA whose signed attributes answer a request's
/// transaction and nonce, and whose content, on success, is an EnvelopedData for the requester holding
/// a certs-only SignedData. Encoding is in two steps: `signedAttributes` is what the RA key signs (in
/// the HSM, SHA-256 with RSA PKCS#1 v1.5), `der(signature:…)` the message.
public struct SCEPReply: Sendable {
    public var status: SCEPStatus
    public var failInfo: SCEPFailInfo?
    public var transactionID: String
    /// The request's senderNonce.
    public var recipientNonce: [UInt8]
    /// 16 fresh random bytes.
    public var senderNonce: [UInt8]
    /// On success: the EnvelopedData's DER (a `ContentInfo`).
    public var envelope: [UInt8]?

    public init(
        status: SCEPStatus,
        failInfo: SCEPFailInfo? = nil,
        transactionID: String,
        recipientNonce: [UInt8],
        senderNonce: [UInt8],
        envelope: [UInt8]? = nil
    ) {
        self.status = status
        self.failInfo = failInfo
        self.transactionID = transactionID
        self.recipientNonce = recipientNonce
        self.senderNonce = senderNonce
        self.envelope = envelope
    }

    /// The signed attributes, DER `SET OF Attribute`: what the RA's key signs.
    public func signedAttributes() throws -> [UInt8] { try CMSSignerInfo.encode(try attributes()) }

    /// The CertRep, DER, with the RA's `signature` over `signedAttributes()`; `certificates` (the RA's
    /// certificate) go in the SignedData for clients that look for the signer there.
    public func der(signer: IssuerAndSerialNumber, certificates: [[UInt8]], signature: [UInt8]) throws -> [UInt8] {
        let signerInfo = try CMSSignerInfo(
            identifier: .issuerAndSerialNumber(signer),
            digestAlgorithm: CMSAlgorithmIdentifier([2, 16, 840, 1, 101, 3, 4, 2, 1]),
            signedAttributes: try attributes(),
            // rsaEncryption with the digest algorithm naming the hash (RFC 3370 section 3.2): the classic
            // PKCS#7 form, which every SCEP client reads (strongSwan's reads no other).
            signatureAlgorithm: CMSAlgorithmIdentifier(CMSObjectIdentifiers.rsaEncryption, parameters: [0x05, 0x00]),
            signature: signature
        )
        // Without an envelope the content is absent and the digest is the empty string's.
        return try CMSSignedDataMessage(content: envelope, certificates: certificates, signers: [signerInfo]).der()
    }

    private func attributes() throws -> [CMSAttribute] {
        var attributes = [
            try CMSAttribute(type: CMSObjectIdentifiers.contentType, value: CMSObjectIdentifiers.data),
            try CMSAttribute(
                type: CMSObjectIdentifiers.messageDigest,
                value: ASN1OctetString(contentBytes: Array(SHA256.hash(data: envelope ?? []))[...])
            ),
            try CMSAttribute(
                type: SCEPObjectIdentifiers.messageType,
                value: try ASN1PrintableString(SCEPMessageType.certRep.rawValue)
            ),
            try CMSAttribute(type: SCEPObjectIdentifiers.pkiStatus, value: try ASN1PrintableString(status.rawValue)),
            CMSAttribute(type: SCEPObjectIdentifiers.transactionID, values: [try Self.string(transactionID)]),
            try CMSAttribute(
                type: SCEPObjectIdentifiers.senderNonce,
                value: ASN1OctetString(contentBytes: senderNonce[...])
            ),
            try CMSAttribute(
                type: SCEPObjectIdentifiers.recipientNonce,
                value: ASN1OctetString(contentBytes: recipientNonce[...])
            ),
        ]
        if let failInfo {
            attributes.append(
                try CMSAttribute(
                    type: SCEPObjectIdentifiers.failInfo,
                    value: try ASN1PrintableString(failInfo.rawValue)
                )
            )
        }
        return attributes
    }

    /// A PrintableString, or a UTF8String for a transactionID a lenient client sent with other characters.
    private static func string(_ text: String) throws -> [UInt8] {
        if let printable = try? ASN1PrintableString(text) { return try derBytes(printable) }
        return try derBytes(ASN1UTF8String(text))
    }
}
