import Crypto
import SwiftASN1

/// An OCSP request as a relying party sends it (RFC 6960 section 4.1.1), read with swift-asn1.
///
/// ```
/// OCSPRequest ::= SEQUENCE {
///     tbsRequest              TBSRequest,
///     optionalSignature   [0] EXPLICIT Signature OPTIONAL }
///
/// TBSRequest ::= SEQUENCE {
///     version             [0] EXPLICIT Version DEFAULT v1,
///     requestorName       [1] EXPLICIT GeneralName OPTIONAL,
///     requestList             SEQUENCE OF Request,
///     requestExtensions   [2] EXPLICIT Extensions OPTIONAL }
///
/// Request ::= SEQUENCE {
///     reqCert                     CertID,
///     singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
/// ```
///
/// Custos reads the CertIDs and the nonce (RFC 8954) and ignores the rest; a signed request is
/// answered like an unsigned one (the signature is not required, section 4.1.2).
struct OCSPRequest: Sendable {
    var certIDs: [CertID]
    /// The nonce extension's `extnValue` (DER `Nonce ::= OCTET STRING`), echoed as it came.
    var nonceExtensionValue: [UInt8]?
    /// The nonce's octets.
    var nonce: [UInt8]?

    /// id-pkix-ocsp-nonce (RFC 6960 section 4.4.1).
    static let nonceOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2]

    init(derEncoded bytes: [UInt8]) throws {
        let root = try DER.parse(bytes)
        guard root.encodedBytes.count == bytes.count else {
            throw ASN1Error.invalidASN1Object(reason: "bytes after the OCSP request")
        }
        var certIDs: [CertID] = []
        var nonceValue: [UInt8]?
        try DER.sequence(root, identifier: .sequence) { outer in
            guard let tbs = outer.next() else { throw ASN1Error.invalidASN1Object(reason: "no tbsRequest") }
            try DER.sequence(tbs, identifier: .sequence) { fields in
                var node = fields.next()
                for tag in [0, 1] as [UInt] {
                    if let current = node,
                        current.identifier == ASN1Identifier(tagWithNumber: tag, tagClass: .contextSpecific)
                    {
                        node = fields.next()
                    }
                }
                guard let list = node else { throw ASN1Error.invalidASN1Object(reason: "no requestList") }
                try DER.sequence(list, identifier: .sequence) { requests in
                    while let request = requests.next() {
                        try DER.sequence(request, identifier: .sequence) { parts in
                            guard let certID = parts.next() else {
                                throw ASN1Error.invalidASN1Object(reason: "no reqCert")
                            }
                            certIDs.append(try CertID(node: certID))
                            while parts.next() != nil {}
                        }
                    }
                }
                if let extensions = fields.next() {
                    guard extensions.identifier == ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific) else {
                        throw ASN1Error.invalidASN1Object(reason: "unexpected field in tbsRequest")
                    }
                    nonceValue = try Self.nonceValue(in: extensions)
                }
                guard fields.next() == nil else {
                    throw ASN1Error.invalidASN1Object(reason: "extra fields in tbsRequest")
                }
            }
            while outer.next() != nil {}
        }
        guard !certIDs.isEmpty else { throw ASN1Error.invalidASN1Object(reason: "an empty requestList") }
        self.certIDs = certIDs
        self.nonceExtensionValue = nonceValue
        if let nonceValue {
            // RFC 8954: Nonce ::= OCTET STRING (SIZE(1..32)). Some clients put the octets in bare.
            if let inner = try? ASN1OctetString(derEncoded: nonceValue[...]) {
                nonce = Array(inner.bytes)
            } else {
                nonce = nonceValue
            }
        }
    }

    /// The `extnValue` of the nonce extension in `[2] EXPLICIT Extensions`, if there is one.
    private static func nonceValue(in node: ASN1Node) throws -> [UInt8]? {
        guard case .constructed(let children) = node.content else {
            throw ASN1Error.invalidASN1Object(reason: "requestExtensions is not constructed")
        }
        var iterator = children.makeIterator()
        guard let sequence = iterator.next() else { return nil }
        var found: [UInt8]?
        try DER.sequence(sequence, identifier: .sequence) { extensions in
            while let node = extensions.next() {
                try DER.sequence(node, identifier: .sequence) { parts in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &parts)
                    var next = parts.next()
                    if next?.identifier == .boolean { next = parts.next() }
                    guard let valueNode = next else { throw ASN1Error.invalidASN1Object(reason: "no extnValue") }
                    let value = try ASN1OctetString(derEncoded: valueNode)
                    if oid == nonceOID { found = Array(value.bytes) }
                }
            }
        }
        return found
    }
}

/// Identifies a certificate by hashes of its issuer's name and key and its serial (RFC 6960
/// section 4.1.1).
///
/// ```
/// CertID ::= SEQUENCE {
///     hashAlgorithm       AlgorithmIdentifier,
///     issuerNameHash      OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
///     serialNumber        CertificateSerialNumber }
/// ```
///
/// The response repeats the request's CertID byte for byte.
struct CertID: Sendable, Hashable {
    var hashAlgorithm: ASN1ObjectIdentifier
    var issuerNameHash: [UInt8]
    var issuerKeyHash: [UInt8]
    /// The INTEGER's content octets (big-endian, as DER encodes it).
    var serial: [UInt8]
    /// The CertID's DER, to echo.
    var der: [UInt8]

    static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]

    init(node: ASN1Node) throws {
        var algorithm: ASN1ObjectIdentifier?
        var nameHash: [UInt8] = []
        var keyHash: [UInt8] = []
        var serial: [UInt8] = []
        try DER.sequence(node, identifier: .sequence) { fields in
            guard let algorithmNode = fields.next() else {
                throw ASN1Error.invalidASN1Object(reason: "no hashAlgorithm")
            }
            try DER.sequence(algorithmNode, identifier: .sequence) { parts in
                algorithm = try ASN1ObjectIdentifier(derEncoded: &parts)
                while parts.next() != nil {}
            }
            nameHash = Array(try ASN1OctetString(derEncoded: &fields).bytes)
            keyHash = Array(try ASN1OctetString(derEncoded: &fields).bytes)
            guard let serialNode = fields.next(), serialNode.identifier == .integer,
                case .primitive(let bytes) = serialNode.content, !bytes.isEmpty
            else { throw ASN1Error.invalidASN1Object(reason: "no serialNumber") }
            serial = Array(bytes)
            guard fields.next() == nil else { throw ASN1Error.invalidASN1Object(reason: "extra fields in CertID") }
        }
        guard let algorithm else { throw ASN1Error.invalidASN1Object(reason: "no hashAlgorithm") }
        self.hashAlgorithm = algorithm
        self.issuerNameHash = nameHash
        self.issuerKeyHash = keyHash
        self.serial = serial
        self.der = Array(node.encodedBytes)
    }
}

extension CertID {
    /// The CertID of `serial` under the issuer certificate `issuer`, hashed with SHA-1 (`1`) or
    /// SHA-256 (`2`), encoded as OpenSSL and most clients do (hash AlgorithmIdentifier with NULL
    /// parameters): for responses signed ahead of any request.
    static func der(issuerName: [UInt8], issuerKey: ArraySlice<UInt8>, serial: [UInt8], algorithm: UInt8) throws
        -> [UInt8]
    {
        let (oid, nameHash, keyHash): (ASN1ObjectIdentifier, [UInt8], [UInt8]) =
            algorithm == 1
            ? (sha1, Array(Insecure.SHA1.hash(data: issuerName)), Array(Insecure.SHA1.hash(data: issuerKey)))
            : (sha256, Array(SHA256.hash(data: issuerName)), Array(SHA256.hash(data: issuerKey)))
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { id in
            try id.appendConstructedNode(identifier: .sequence) { algorithmIdentifier in
                try algorithmIdentifier.serialize(oid)
                try algorithmIdentifier.serialize(ASN1Null())
            }
            try id.serialize(ASN1OctetString(contentBytes: nameHash[...]))
            try id.serialize(ASN1OctetString(contentBytes: keyHash[...]))
            id.appendPrimitiveNode(identifier: .integer) { $0.append(contentsOf: serial) }
        }
        return coder.serializedBytes
    }
}
