import SwiftASN1

/// The answer to an ir, cr, kur or p10cr: ip, cp, kup (RFC 9810 section 5.3.4).
///
/// ```
/// CertRepMessage ::= SEQUENCE {
///   caPubs    [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL,
///   response      SEQUENCE OF CertResponse }
/// CertResponse ::= SEQUENCE {
///   certReqId         INTEGER,
///   status            PKIStatusInfo,
///   certifiedKeyPair  CertifiedKeyPair  OPTIONAL,
///   rspInfo           OCTET STRING      OPTIONAL }
/// CertifiedKeyPair ::= SEQUENCE {
///   certOrEncCert     CertOrEncCert,
///   privateKey    [0] EncryptedKeyChoice   OPTIONAL,
///   publicationInfo [1] PKIPublicationInfo OPTIONAL }
/// CertOrEncCert ::= CHOICE { certificate [0] CMPCertificate, encryptedCert [1] EncryptedKey }
/// EncryptedKeyChoice ::= CHOICE { encryptedValue EncryptedValue, envelopedData [0] EnvelopedData }
/// ```
public struct CertRepMessage: Sendable, Hashable {
    public struct Response: Sendable, Hashable {
        public var certReqID: Int
        public var status: PKIStatusInfo
        /// The certificate in DER.
        public var certificate: [UInt8]?
        /// A centrally generated private key: a CMS EnvelopedData (RFC 9483 section 4.1.6) in DER.
        public var privateKeyEnvelope: [UInt8]?

        public init(
            certReqID: Int,
            status: PKIStatusInfo,
            certificate: [UInt8]? = nil,
            privateKeyEnvelope: [UInt8]? = nil
        ) {
            self.certReqID = certReqID
            self.status = status
            self.certificate = certificate
            self.privateKeyEnvelope = privateKeyEnvelope
        }
    }

    /// CA certificates the requester may take as trust anchors (DER).
    public var caPubs: [[UInt8]]
    public var responses: [Response]

    public init(caPubs: [[UInt8]] = [], responses: [Response]) {
        self.caPubs = caPubs
        self.responses = responses
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a CertRepMessage").makeIterator()
        guard var next = iterator.next() else { throw CMPError(.badDataFormat, "a CertRepMessage is empty") }
        caPubs = []
        if next.identifier == .context(1) {
            caPubs = try children(of: try explicit(next, "caPubs"), .sequence, "caPubs").map { Array($0.encodedBytes) }
            guard let following = iterator.next() else {
                throw CMPError(.badDataFormat, "a CertRepMessage has no response")
            }
            next = following
        }
        responses = try children(of: next, .sequence, "the responses").map { node throws(CMPError) in
            var fields = try children(of: node, .sequence, "a CertResponse").makeIterator()
            guard let id = fields.next(), let status = fields.next() else {
                throw CMPError(.badDataFormat, "a CertResponse lacks its id or status")
            }
            var response = Response(
                certReqID: try smallInteger(id, "certReqId"),
                status: try PKIStatusInfo(node: status)
            )
            if let pair = fields.next(), pair.identifier == .sequence {
                var parts = try children(of: pair, .sequence, "a CertifiedKeyPair").makeIterator()
                guard let choice = parts.next(), choice.identifier == .context(0) else {
                    throw CMPError(.badDataFormat, "a CertifiedKeyPair holds no plain certificate")
                }
                response.certificate = Array(try explicit(choice, "certificate").encodedBytes)
                if let key = parts.next(), key.identifier == .context(0) {
                    let envelope = try explicit(key, "privateKey")
                    var der = Array(envelope.encodedBytes)
                    if envelope.identifier == .context(0) { der[0] = 0x30 }
                    response.privateKeyEnvelope = der
                }
            }
            return response
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { message in
            if !caPubs.isEmpty {
                message.appendConstructedNode(identifier: .context(1)) { tagged in
                    tagged.appendConstructedNode(identifier: .sequence) { list in
                        for certificate in caPubs { list.serializeRawBytes(certificate) }
                    }
                }
            }
            try message.appendConstructedNode(identifier: .sequence) { list in
                for response in responses {
                    try list.appendConstructedNode(identifier: .sequence) { item in
                        try item.serialize(response.certReqID)
                        try response.status.serialize(into: &item)
                        guard let certificate = response.certificate else { return }
                        item.appendConstructedNode(identifier: .sequence) { pair in
                            pair.appendConstructedNode(identifier: .context(0)) { $0.serializeRawBytes(certificate) }
                            if var envelope = response.privateKeyEnvelope {
                                // EncryptedKeyChoice's envelopedData [0] (implicit on a SEQUENCE), inside
                                // the explicit [0] of privateKey.
                                envelope[0] = 0xA0
                                pair.appendConstructedNode(identifier: .context(0)) { $0.serializeRawBytes(envelope) }
                            }
                        }
                    }
                }
            }
        }
    }
}
