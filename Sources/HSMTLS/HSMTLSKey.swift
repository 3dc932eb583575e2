public import HSM
public import NIOCore
public import NIOSSL
public import PKCS11
public import Signing
import SwiftASN1
import X509

/// An HSM key that signs TLS handshakes through the session pool: the HTTPS server's key, and the
/// client key an upstream connector authenticates with.
///
/// swift-nio-ssl calls `sign` on the connection's event loop; the signature is made on a pool worker
/// thread and completes the event loop's promise, so the event loop never waits on the HSM.
public struct HSMTLSKey: NIOSSLCustomPrivateKey, Hashable {
    let reference: KeyReference
    let algorithm: KeyAlgorithm
    let keyStore: KeyStore
    let publicKeyDER: [UInt8]

    /// The key of a `HSMPrivateKey` (an upstream connector's RA key).
    public init(_ key: HSMPrivateKey) throws {
        reference = key.reference
        algorithm = key.algorithm
        keyStore = key.keyStore
        var coder = DER.Serializer()
        try key.publicKey.serialize(into: &coder)
        publicKeyDER = coder.serializedBytes
    }

    public init(_ key: SigningKey, keyStore: KeyStore) {
        reference = key.reference
        algorithm = key.algorithm
        self.keyStore = keyStore
        publicKeyDER = key.publicKey.derRepresentation
    }

    public static func == (lhs: HSMTLSKey, rhs: HSMTLSKey) -> Bool { lhs.reference == rhs.reference }
    public func hash(into hasher: inout Hasher) { hasher.combine(reference) }

    /// Identifies the key to swift-nio-ssl; the public half is all there is to give.
    public var derBytes: [UInt8] { publicKeyDER }

    public var signatureAlgorithms: [SignatureAlgorithm] {
        switch algorithm {
        case .ecP256: [.ecdsaSecp256R1Sha256]
        case .ecP384: [.ecdsaSecp384R1Sha384]
        case .ecP521: [.ecdsaSecp521R1Sha512]
        case .rsa2048, .rsa3072, .rsa4096:
            [
                .rsaPssRsaeSha256, .rsaPssRsaeSha384, .rsaPssRsaeSha512, .rsaPkcs1Sha256, .rsaPkcs1Sha384,
                .rsaPkcs1Sha512,
            ]
        case .ed25519: [.ed25519]
        }
    }

    public func sign(channel: any Channel, algorithm tlsAlgorithm: SignatureAlgorithm, data: ByteBuffer)
        -> EventLoopFuture<ByteBuffer>
    {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        guard let scheme = Self.scheme(for: tlsAlgorithm) else {
            promise.fail(SigningError(.unsupportedScheme, "TLS signature algorithm \(tlsAlgorithm) is not supported"))
            return promise.futureResult
        }
        let message = Array(data.readableBytesView)
        let (reference, algorithm, keyStore) = (self.reference, self.algorithm, self.keyStore)
        promise.completeWithTask {
            var signature = try await keyStore.sign(reference, scheme: scheme, input: .message(message))
            if case .ecdsa = scheme {
                signature = try ECDSASignatureFormat.der(fromRaw: signature, algorithm: algorithm)
            }
            return ByteBuffer(bytes: signature)
        }
        return promise.futureResult
    }

    /// TLS 1.2 RSA key exchange is not offered (only ECDHE suites), so nothing is ever decrypted.
    public func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(SigningError(.unsupportedScheme, "RSA key exchange is not supported"))
    }

    /// TLS PSS uses a salt as long as the hash (RFC 8446 §4.2.3).
    public static func scheme(for algorithm: SignatureAlgorithm) -> SignatureScheme? {
        switch algorithm {
        case .ecdsaSecp256R1Sha256: .ecdsa(.sha256)
        case .ecdsaSecp384R1Sha384: .ecdsa(.sha384)
        case .ecdsaSecp521R1Sha512: .ecdsa(.sha512)
        case .rsaPssRsaeSha256: .rsaPSS(.sha256, saltLength: 32)
        case .rsaPssRsaeSha384: .rsaPSS(.sha384, saltLength: 48)
        case .rsaPssRsaeSha512: .rsaPSS(.sha512, saltLength: 64)
        case .rsaPkcs1Sha256: .rsaPKCS1v15(.sha256)
        case .rsaPkcs1Sha384: .rsaPKCS1v15(.sha384)
        case .rsaPkcs1Sha512: .rsaPKCS1v15(.sha512)
        case .ed25519: .ed25519
        default: nil
        }
    }
}
