import SwiftASN1
public import X509

extension CMSAlgorithmIdentifier {
    /// The signature algorithm this identifier names by itself (RSA PKCS#1 v1.5 with a hash, ECDSA with a
    /// hash); nil for others, and for rsaEncryption, which needs a digest algorithm beside it.
    public var signatureAlgorithm: Certificate.SignatureAlgorithm? {
        switch algorithm {
        case [1, 2, 840, 113_549, 1, 1, 5]: .sha1WithRSAEncryption
        case [1, 2, 840, 113_549, 1, 1, 11]: .sha256WithRSAEncryption
        case [1, 2, 840, 113_549, 1, 1, 12]: .sha384WithRSAEncryption
        case [1, 2, 840, 113_549, 1, 1, 13]: .sha512WithRSAEncryption
        case [1, 2, 840, 10045, 4, 3, 2]: .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: .ecdsaWithSHA384
        case [1, 2, 840, 10045, 4, 3, 4]: .ecdsaWithSHA512
        case [1, 3, 101, 112]: .ed25519
        default: nil
        }
    }
}

extension CMSAlgorithmIdentifier {
    /// The identifier of a signature algorithm Custos's keys use, with the parameters
    /// `SignatureAlgorithmIdentifier` writes (absent for ECDSA and Ed25519, NULL for RSA).
    public init(signatureAlgorithm: Certificate.SignatureAlgorithm) throws {
        var coder = DER.Serializer()
        try SignatureAlgorithmIdentifier.serialize(signatureAlgorithm, into: &coder)
        try self.init(node: try DER.parse(coder.serializedBytes))
    }
}
