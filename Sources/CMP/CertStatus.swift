import Crypto
public import CustosX509
import SwiftASN1
public import X509

/// A requester's confirmation of one certificate, in a certConf (RFC 9810 section 5.3.18).
///
/// ```
/// CertConfirmContent ::= SEQUENCE OF CertStatus
/// CertStatus ::= SEQUENCE {
///   certHash      OCTET STRING,
///   certReqId     INTEGER,
///   statusInfo    PKIStatusInfo OPTIONAL,
///   hashAlg   [0] AlgorithmIdentifier OPTIONAL }
/// ```
/// `certHash` uses the hash of the certificate's signature algorithm unless `hashAlg` names one (which
/// needs pvno cmp2021).
public struct CertStatus: Sendable, Hashable {
    public var certHash: [UInt8]
    public var certReqID: Int
    /// Absent: accepted.
    public var statusInfo: PKIStatusInfo?
    public var hashAlgorithm: CMSAlgorithmIdentifier?

    public init(
        certHash: [UInt8],
        certReqID: Int,
        statusInfo: PKIStatusInfo? = nil,
        hashAlgorithm: CMSAlgorithmIdentifier? = nil
    ) {
        self.certHash = certHash
        self.certReqID = certReqID
        self.statusInfo = statusInfo
        self.hashAlgorithm = hashAlgorithm
    }

    /// Whether the requester accepts the certificate.
    public var accepted: Bool { statusInfo.map { $0.status == .accepted || $0.status == .grantedWithMods } ?? true }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a CertStatus").makeIterator()
        guard let hash = iterator.next(), let id = iterator.next() else {
            throw CMPError(.badDataFormat, "a CertStatus lacks its hash or id")
        }
        certHash = try octets(hash, "certHash")
        certReqID = try smallInteger(id, "certReqId")
        while let field = iterator.next() {
            if field.identifier == .sequence, statusInfo == nil, hashAlgorithm == nil {
                statusInfo = try PKIStatusInfo(node: field)
            } else if field.identifier == .context(0), hashAlgorithm == nil {
                hashAlgorithm = try parsing("hashAlg") {
                    try CMSAlgorithmIdentifier(node: try explicit(field, "hashAlg"))
                }
            } else {
                throw CMPError(.badDataFormat, "a CertStatus has an unexpected field")
            }
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            try sequence.serialize(ASN1OctetString(contentBytes: certHash[...]))
            try sequence.serialize(certReqID)
            try statusInfo?.serialize(into: &sequence)
            if let hashAlgorithm {
                try sequence.appendConstructedNode(identifier: .context(0)) { try hashAlgorithm.serialize(into: &$0) }
            }
        }
    }

    /// The hash a certConf's certHash uses: `hashAlg` if given, else the certificate's signature hash
    /// (RFC 9810 section 5.3.18; SHA-512 for Ed25519, RFC 9481 section 3.3).
    public static func confirmationHash(_ algorithm: CMSAlgorithmIdentifier?, certificate: Certificate)
        -> (([UInt8]) -> [UInt8])?
    {
        let sha256: ([UInt8]) -> [UInt8] = { Array(SHA256.hash(data: $0)) }
        let sha384: ([UInt8]) -> [UInt8] = { Array(SHA384.hash(data: $0)) }
        let sha512: ([UInt8]) -> [UInt8] = { Array(SHA512.hash(data: $0)) }
        if let algorithm {
            switch algorithm.algorithm {
            case [2, 16, 840, 1, 101, 3, 4, 2, 1]: return sha256
            case [2, 16, 840, 1, 101, 3, 4, 2, 2]: return sha384
            case [2, 16, 840, 1, 101, 3, 4, 2, 3]: return sha512
            default: return nil
            }
        }
        switch certificate.signatureAlgorithm {
        case .ecdsaWithSHA256, .sha256WithRSAEncryption: return sha256
        case .ecdsaWithSHA384, .sha384WithRSAEncryption: return sha384
        case .ecdsaWithSHA512, .sha512WithRSAEncryption, .ed25519: return sha512
        default: return nil
        }
    }
}
