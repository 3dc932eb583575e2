import Crypto
public import CustosX509
import Foundation
import SwiftASN1
public import X509

/// A SCEP request as received (RFC 8894 section 3.2): a SignedData whose signed attributes carry the
/// transaction, and whose content is a pkcsPKIEnvelope (an EnvelopedData for the RA).
///
/// Reading happens in two steps so that a refusal can be a signed CertRep whenever possible: `init`
/// needs only what a CertRep echoes (transactionID, senderNonce) and throws otherwise (the server can
/// then only answer over HTTP); `verify()` then checks the signer and its signature, and `envelope()`
/// reads the encrypted part, each throwing the failInfo a CertRep carries.
public struct SCEPRequest: Sendable {
    /// Nil when the message type is one this server does not know (answered with badRequest).
    public let messageType: SCEPMessageType?
    /// The message type as sent.
    public let messageTypeText: String
    public let transactionID: String
    public let senderNonce: [UInt8]
    /// The certificate the signer identifier names (self-signed for a first request, the current one for
    /// a renewal), if the message carries it.
    public let signerCertificate: Certificate?
    /// The encapsulated content: the pkcsPKIEnvelope's DER.
    public let content: [UInt8]
    private let signer: CMSSignerInfo

    /// Reads a PKIOperation message. Throws when it cannot be answered with a CertRep at all.
    public init(derEncoded bytes: [UInt8]) throws(SCEPError) {
        let signedData: CMSSignedDataMessage
        do { signedData = try CMSSignedDataMessage(derEncoded: bytes) } catch {
            throw SCEPError(.badRequest, "the message is not a CMS SignedData: \(error)")
        }
        guard signedData.signers.count == 1, let signer = signedData.signers.first else {
            throw SCEPError(
                .badMessageCheck,
                "a SCEP message has exactly one signer, this one has \(signedData.signers.count)"
            )
        }
        guard signedData.contentType == CMSObjectIdentifiers.data, let content = signedData.content else {
            throw SCEPError(.badRequest, "a SCEP message encapsulates its pkcsPKIEnvelope as id-data")
        }
        self.signer = signer
        self.content = content
        let attributes = signer.signedAttributes
        transactionID = try Self.text(attributes, SCEPObjectIdentifiers.transactionID, "transactionID")
        messageTypeText = try Self.text(attributes, SCEPObjectIdentifiers.messageType, "messageType")
        messageType = SCEPMessageType(rawValue: messageTypeText)
        guard let nonce = try? attributes.first(SCEPObjectIdentifiers.senderNonce)?.singleValue(),
            let node = try? DER.parse(nonce), node.identifier == .octetString,
            case .primitive(let value) = node.content,
            value.count == 16
        else { throw SCEPError(.badRequest, "the senderNonce is missing or not an OCTET STRING of 16 bytes") }
        senderNonce = Array(value)
        guard !transactionID.isEmpty, transactionID.utf8.count <= 128 else {
            throw SCEPError(.badRequest, "the transactionID has 1 to 128 characters")
        }
        signerCertificate =
            signedData.certificates.lazy.compactMap { der -> Certificate? in
                guard case .issuerAndSerialNumber(let name) = signer.identifier,
                    (try? IssuerAndSerialNumber(certificate: der)) == name
                else { return nil }
                return try? Certificate(derEncoded: der)
            }.first
    }

    /// Checks the signature: the signer's certificate is in the message, the content's digest matches,
    /// and the signer's key signed the attributes. Throws badAlg for algorithms it does not know and
    /// badMessageCheck otherwise.
    public func verify() throws(SCEPError) -> Certificate {
        guard let certificate = signerCertificate else {
            throw SCEPError(.badMessageCheck, "the message does not carry the signer's certificate")
        }
        guard let signed = signer.signedAttributesDER else {
            throw SCEPError(.badMessageCheck, "a SCEP signer signs attributes")
        }
        let hash = try Self.hash(signer.digestAlgorithm)
        let contentType = try? signer.signedAttributes.first(CMSObjectIdentifiers.contentType)?.singleValue()
        guard contentType == (try? derBytes(CMSObjectIdentifiers.data)) else {
            throw SCEPError(.badMessageCheck, "the signed content-type attribute is not id-data")
        }
        let digest = try? signer.signedAttributes.first(CMSObjectIdentifiers.messageDigest)?.singleValue()
        guard let digest, digest == (try? derBytes(ASN1OctetString(contentBytes: hash(content)[...]))) else {
            throw SCEPError(.badMessageCheck, "the message-digest attribute does not match the content")
        }
        let algorithm = try Self.signatureAlgorithm(signer.signatureAlgorithm, digest: signer.digestAlgorithm)
        guard certificate.publicKey.isValidSignature(signer.signature, for: signed, signatureAlgorithm: algorithm)
        else { throw SCEPError(.badMessageCheck, "the signature does not verify with the signer's certificate") }
        return certificate
    }

    /// The pkcsPKIEnvelope.
    public func envelope() throws(SCEPError) -> CMSEnvelopedData {
        do { return try CMSEnvelopedData(derEncoded: content) } catch {
            throw SCEPError(.badRequest, "the pkcsPKIEnvelope is not a CMS EnvelopedData: \(error)")
        }
    }

    private static func text(_ attributes: [CMSAttribute], _ type: ASN1ObjectIdentifier, _ name: String)
        throws(SCEPError) -> String
    {
        // PrintableString as RFC 8894 says; UTF8String and IA5String from lenient clients.
        let accepted: [ASN1Identifier] = [.printableString, .utf8String, .ia5String]
        guard let value = try? attributes.first(type)?.singleValue(), let node = try? DER.parse(value),
            accepted.contains(node.identifier), case .primitive(let bytes) = node.content,
            let text = String(bytes: bytes, encoding: .utf8)
        else { throw SCEPError(.badRequest, "the \(name) attribute is missing or not a string") }
        return text
    }

    private static func hash(_ algorithm: CMSAlgorithmIdentifier) throws(SCEPError) -> ([UInt8]) -> [UInt8] {
        guard algorithm.hasNoParameters else { throw SCEPError(.badAlg, "the digest algorithm has parameters") }
        switch algorithm.algorithm {
        case [1, 3, 14, 3, 2, 26]: return { Array(Insecure.SHA1.hash(data: $0)) }
        case [2, 16, 840, 1, 101, 3, 4, 2, 1]: return { Array(SHA256.hash(data: $0)) }
        case [2, 16, 840, 1, 101, 3, 4, 2, 2]: return { Array(SHA384.hash(data: $0)) }
        case [2, 16, 840, 1, 101, 3, 4, 2, 3]: return { Array(SHA512.hash(data: $0)) }
        default: throw SCEPError(.badAlg, "digest algorithm \(algorithm.algorithm) is not supported")
        }
    }

    /// The signature algorithm: RSA PKCS#1 v1.5 named with its hash or as rsaEncryption with the digest
    /// algorithm (RFC 3370 section 3.2), or ECDSA.
    private static func signatureAlgorithm(_ signature: CMSAlgorithmIdentifier, digest: CMSAlgorithmIdentifier)
        throws(SCEPError) -> Certificate.SignatureAlgorithm
    {
        let rsaByDigest: [ASN1ObjectIdentifier: Certificate.SignatureAlgorithm] = [
            [1, 3, 14, 3, 2, 26]: .sha1WithRSAEncryption,
            [2, 16, 840, 1, 101, 3, 4, 2, 1]: .sha256WithRSAEncryption,
            [2, 16, 840, 1, 101, 3, 4, 2, 2]: .sha384WithRSAEncryption,
            [2, 16, 840, 1, 101, 3, 4, 2, 3]: .sha512WithRSAEncryption,
        ]
        if signature.algorithm == CMSObjectIdentifiers.rsaEncryption, let algorithm = rsaByDigest[digest.algorithm] {
            return algorithm
        }
        guard let algorithm = signature.signatureAlgorithm else {
            throw SCEPError(.badAlg, "signature algorithm \(signature.algorithm) is not supported")
        }
        return algorithm
    }
}
