public import CustosX509
import SwiftASN1
public import X509

/// One certificate request of an ir, cr or kur (RFC 4211 sections 3 to 6).
///
/// ```
/// CertReqMsg ::= SEQUENCE {
///   certReq   CertRequest,
///   popo      ProofOfPossession  OPTIONAL,
///   regInfo   SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue OPTIONAL }
/// CertRequest ::= SEQUENCE {
///   certReqId     INTEGER,
///   certTemplate  CertTemplate,
///   controls      Controls  OPTIONAL }
/// Controls ::= SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue
/// ProofOfPossession ::= CHOICE {
///   raVerified        [0] NULL,
///   signature         [1] POPOSigningKey,
///   keyEncipherment   [2] POPOPrivKey,
///   keyAgreement      [3] POPOPrivKey }
/// POPOSigningKey ::= SEQUENCE {
///   poposkInput           [0] POPOSigningKeyInput OPTIONAL,
///   algorithmIdentifier   AlgorithmIdentifier,
///   signature             BIT STRING }
/// CertId ::= SEQUENCE { issuer GeneralName, serialNumber INTEGER }
/// ```
public struct CertReqMessage: Sendable, Hashable {
    public enum ProofOfPossession: Sendable, Hashable {
        /// An RA checked possession (acceptable only from an RA).
        case raVerified
        /// A signature over the DER of `certReq` with the requested key.
        case signature(algorithm: CMSAlgorithmIdentifier, signature: [UInt8], hasInput: Bool)
        /// keyEncipherment or keyAgreement: the CA would encrypt the certificate to the key.
        case indirect(tag: UInt)
    }

    public var certReqID: Int
    public var template: CertTemplate
    /// The controls as sent: type and value DER.
    public var controls: [InfoTypeAndValue]
    public var proofOfPossession: ProofOfPossession?
    /// The CertRequest exactly as received: what a POP signature covers.
    public var certRequestDER: [UInt8]

    /// The certificate a kur names (id-regCtrl-oldCertID): its issuer and serial number.
    public func oldCertificateID() throws(CMPError) -> (issuer: GeneralName, serial: [UInt8])? {
        guard let control = controls.first(where: { $0.type == CMPObjectIdentifiers.oldCertID }),
            let value = control.value
        else { return nil }
        return try parsing("the oldCertID control") {
            let node = try DER.parse(value)
            var iterator = try children(of: node, .sequence, "a CertId").makeIterator()
            guard let issuer = iterator.next(), let serial = iterator.next(), iterator.next() == nil else {
                throw CMPError(.badDataFormat, "a CertId has two fields")
            }
            return (try GeneralName(derEncoded: issuer), Array(try ArraySlice<UInt8>(derEncoded: serial)))
        }
    }

    /// Checks the signature proof of possession with the template's key (RFC 4211 section 4.1).
    public func verifyProofOfPossession() throws(CMPError) {
        guard case .signature(let algorithm, let signature, let hasInput) = proofOfPossession else {
            throw CMPError(.badPOP, "the request carries no signature proof of possession")
        }
        guard !hasInput else {
            throw CMPError(.badPOP, "a POPOSigningKeyInput is for requests without a subject; send the subject")
        }
        guard let key = try template.publicKey() else {
            throw CMPError(.badCertTemplate, "the template has no public key")
        }
        guard let signatureAlgorithm = algorithm.signatureAlgorithm else {
            throw CMPError(.badAlg, "POP signature algorithm \(algorithm.algorithm) is not supported")
        }
        guard key.isValidSignature(signature, for: certRequestDER, signatureAlgorithm: signatureAlgorithm) else {
            throw CMPError(.badPOP, "the proof-of-possession signature does not verify with the requested key")
        }
    }

    public init(
        certReqID: Int,
        template: CertTemplate,
        controls: [InfoTypeAndValue] = [],
        proofOfPossession: ProofOfPossession? = nil
    ) throws {
        self.certReqID = certReqID
        self.template = template
        self.controls = controls
        self.proofOfPossession = proofOfPossession
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { request in
            try request.serialize(certReqID)
            try template.serialize(into: &request)
            if !controls.isEmpty {
                try request.appendConstructedNode(identifier: .sequence) { list in
                    for control in controls { try control.serialize(into: &list) }
                }
            }
        }
        certRequestDER = coder.serializedBytes
    }

    /// A bare CertRequest (as kept while it waits for approval), without its proof of possession.
    public init(certRequestDER der: [UInt8]) throws(CMPError) {
        let node = try parsing("a CertRequest") { try DER.parse(der) }
        try self.init(request: node)
    }

    private init(request: ASN1Node) throws(CMPError) {
        certRequestDER = Array(request.encodedBytes)
        var fields = try children(of: request, .sequence, "a CertRequest").makeIterator()
        guard let idNode = fields.next(), let templateNode = fields.next() else {
            throw CMPError(.badDataFormat, "a CertRequest lacks its id or template")
        }
        certReqID = try smallInteger(idNode, "certReqId")
        template = try CertTemplate(node: templateNode)
        controls =
            try fields.next().map { node throws(CMPError) in
                try children(of: node, .sequence, "the controls").map { item throws(CMPError) in
                    try InfoTypeAndValue(node: item)
                }
            } ?? []
        guard fields.next() == nil else { throw CMPError(.badDataFormat, "a CertRequest has extra fields") }
        proofOfPossession = nil
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a CertReqMsg").makeIterator()
        guard let request = iterator.next() else { throw CMPError(.badDataFormat, "a CertReqMsg is empty") }
        try self.init(request: request)
        guard let pop = iterator.next() else { return }
        switch pop.identifier {
        case .context(0): proofOfPossession = .raVerified
        case .context(1):
            var parts = try children(of: pop, .context(1), "a POPOSigningKey").makeIterator()
            guard var next = parts.next() else { throw CMPError(.badPOP, "a POPOSigningKey is empty") }
            let hasInput = next.identifier == .context(0)
            if hasInput, let following = parts.next() { next = following }
            let algorithm = try parsing("the POP algorithm") { try CMSAlgorithmIdentifier(node: next) }
            guard let bits = parts.next() else { throw CMPError(.badPOP, "a POPOSigningKey has no signature") }
            let signature = try parsing("the POP signature") { try ASN1BitString(derEncoded: bits) }
            proofOfPossession = .signature(algorithm: algorithm, signature: Array(signature.bytes), hasInput: hasInput)
        case .context(2), .context(3): proofOfPossession = .indirect(tag: pop.identifier.tagNumber)
        default: throw CMPError(.badPOP, "the proof of possession is of an unknown kind")
        }
        guard iterator.next().map({ $0.identifier == .sequence }) ?? true, iterator.next() == nil else {
            throw CMPError(.badDataFormat, "a CertReqMsg has unexpected fields")
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { message in
            message.serializeRawBytes(certRequestDER)
            switch proofOfPossession {
            case nil: break
            case .raVerified: message.appendPrimitiveNode(identifier: .context(0)) { _ in }
            case .signature(let algorithm, let signature, _):
                try message.appendConstructedNode(identifier: .context(1)) { pop in
                    try algorithm.serialize(into: &pop)
                    try pop.serialize(ASN1BitString(bytes: signature[...]))
                }
            case .indirect:
                throw CMPError(.badPOP, "only signature and raVerified proofs of possession are written")
            }
        }
    }
}
