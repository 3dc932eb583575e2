import Crypto
import Foundation
import SwiftASN1
import X509

/// A throwaway two-level CA held in memory (root → intermediate) that certifies HSM public keys for
/// tests. Its keys are software keys of the test, never Custos keys.
struct TestCA {
    let rootKey = P256.Signing.PrivateKey()
    let intermediateKey = P256.Signing.PrivateKey()
    let root: Certificate
    let intermediate: Certificate

    init() throws {
        let now = Date()
        let rootName = try DistinguishedName { CommonName("Custos Test Root") }
        root = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(rootKey.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 86400,
            issuer: rootName,
            subject: rootName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(rootKey)
        )
        intermediate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(intermediateKey.publicKey),
            notValidBefore: now - 3600,
            notValidAfter: now + 86400,
            issuer: rootName,
            subject: try DistinguishedName { CommonName("Custos Test Code Signing CA") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(rootKey)
        )
    }

    /// A leaf certificate for `publicKeyPEM` (the API's `publicKey`), issued by the intermediate.
    func leaf(
        for publicKeyPEM: String,
        name: String,
        usages: [ExtendedKeyUsage.Usage] = [.codeSigning],
        notValidBefore: Date = Date() - 3600,
        notValidAfter: Date = Date() + 86400
    ) throws -> Certificate {
        try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: try Certificate.PublicKey(pemEncoded: publicKeyPEM),
            notValidBefore: notValidBefore,
            notValidAfter: notValidAfter,
            issuer: intermediate.subject,
            subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage(usages)
            },
            issuerPrivateKey: .init(intermediateKey)
        )
    }

    var rootPEM: String { get throws { try root.serializeAsPEM().pemString } }

    /// Leaf and intermediate, PEM, as `PUT /v1/keys/{name}/certificate` takes them.
    func chainPEM(_ leaf: Certificate) throws -> String {
        try leaf.serializeAsPEM().pemString + "\n" + intermediate.serializeAsPEM().pemString + "\n"
    }
}

/// The parts of a CMS SignedData a test looks into: the signer's signature value and its unsigned
/// attributes.
struct ParsedCMS {
    var signature: [UInt8]
    /// The signed attributes as the signer signed them: a DER SET (the `[0]` tag replaced).
    var signedAttributes: [UInt8]
    /// `(type, first value DER)` of each unsigned attribute.
    var unsignedAttributes: [(ASN1ObjectIdentifier, [UInt8])]
    var certificateCount: Int

    init(_ der: [UInt8]) throws {
        func children(_ node: ASN1Node) throws -> [ASN1Node] {
            guard case .constructed(let nodes) = node.content else { throw TestFailure("not constructed") }
            return Array(nodes)
        }
        let contentInfo = try children(try DER.parse(der))
        let signedData = try children(try children(contentInfo[1])[0])
        certificateCount = try children(signedData[3]).count
        let signerInfo = try children(try children(signedData[signedData.count - 1])[0])
        signedAttributes = [0x31] + signerInfo[3].encodedBytes.dropFirst()
        signature = try ASN1OctetString(derEncoded: signerInfo[5]).bytes.map { $0 }
        unsignedAttributes = []
        if signerInfo.count > 6 {
            for attribute in try children(signerInfo[6]) {
                let parts = try children(attribute)
                let value = try children(parts[1])[0]
                unsignedAttributes.append((try ASN1ObjectIdentifier(derEncoded: parts[0]), Array(value.encodedBytes)))
            }
        }
    }
}
