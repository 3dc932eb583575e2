public import Foundation
public import HSM
public import PKCS11
public import SwiftASN1
public import X509

/// An HSM key as swift-certificates' private key: certificates and CSRs built with the `async`
/// initialisers are signed through the session pool, and the key never leaves the token.
public struct HSMPrivateKey: CustomPrivateKey {
    public let reference: KeyReference
    public let algorithm: KeyAlgorithm
    public let publicKey: Certificate.PublicKey
    /// The key store it signs through.
    public let keyStore: KeyStore

    public init(reference: KeyReference, algorithm: KeyAlgorithm, publicKey: PublicKey, keyStore: KeyStore) throws {
        self.reference = reference
        self.algorithm = algorithm
        self.publicKey = try Certificate.PublicKey(derEncoded: publicKey.derRepresentation)
        self.keyStore = keyStore
    }

    /// `key` as a private key for swift-certificates, with the public key converted when `key` was loaded.
    public init(_ key: SigningKey, keyStore: KeyStore) throws {
        self.reference = key.reference
        self.algorithm = key.algorithm
        self.publicKey =
            try key.certificatePublicKey ?? Certificate.PublicKey(derEncoded: key.publicKey.derRepresentation)
        self.keyStore = keyStore
    }

    public static func == (lhs: HSMPrivateKey, rhs: HSMPrivateKey) -> Bool { lhs.reference == rhs.reference }
    public func hash(into hasher: inout Hasher) { hasher.combine(reference) }

    public var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm {
        switch algorithm {
        case .ecP256: .ecdsaWithSHA256
        case .ecP384: .ecdsaWithSHA384
        case .ecP521: .ecdsaWithSHA512
        case .rsa2048, .rsa3072, .rsa4096: .sha256WithRSAEncryption
        case .ed25519: .ed25519
        }
    }

    public var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] {
        switch algorithm {
        case .ecP256, .ecP384, .ecP521: [.ecdsaWithSHA256, .ecdsaWithSHA384, .ecdsaWithSHA512]
        case .rsa2048, .rsa3072, .rsa4096:
            [.sha256WithRSAEncryption, .sha384WithRSAEncryption, .sha512WithRSAEncryption]
        case .ed25519: [.ed25519]
        }
    }

    /// Signing blocks on the HSM: only the `async` certificate and CSR initialisers may use this key.
    public func signSynchronously(
        bytes: some DataProtocol,
        signatureAlgorithm: Certificate.SignatureAlgorithm
    ) throws -> Certificate.Signature {
        throw SigningError(.invalidInput, "an HSM key signs asynchronously only (use the async initialisers)")
    }

    public func signAsynchronously(
        bytes: some DataProtocol & Sendable,
        signatureAlgorithm: Certificate.SignatureAlgorithm
    ) async throws -> Certificate.Signature {
        let value = try await signatureValue(Array(bytes), signatureAlgorithm: signatureAlgorithm)
        return try Certificate.Signature(
            signatureAlgorithm: signatureAlgorithm,
            signatureBytes: ASN1BitString(bytes: value[...])
        )
    }

    /// The signature over `bytes` as X.509 carries it in its BIT STRING: ECDSA as a DER
    /// `ECDSA-Sig-Value`, RSA and Ed25519 as they come. For structures swift-certificates does not
    /// build (CRLs, OCSP responses).
    public func signatureValue(_ bytes: [UInt8], signatureAlgorithm: Certificate.SignatureAlgorithm) async throws
        -> [UInt8]
    {
        let scheme: SignatureScheme
        switch signatureAlgorithm {
        case .ecdsaWithSHA256: scheme = .ecdsa(.sha256)
        case .ecdsaWithSHA384: scheme = .ecdsa(.sha384)
        case .ecdsaWithSHA512: scheme = .ecdsa(.sha512)
        case .sha256WithRSAEncryption: scheme = .rsaPKCS1v15(.sha256)
        case .sha384WithRSAEncryption: scheme = .rsaPKCS1v15(.sha384)
        case .sha512WithRSAEncryption: scheme = .rsaPKCS1v15(.sha512)
        case .ed25519: scheme = .ed25519
        default: throw SigningError(.unsupportedScheme, "\(signatureAlgorithm) is not supported for HSM keys")
        }
        guard scheme.isCompatible(with: algorithm) else {
            throw SigningError(.unsupportedScheme, "a \(algorithm.rawValue) key cannot sign with \(signatureAlgorithm)")
        }
        let raw = try await keyStore.sign(reference, scheme: scheme, input: .message(bytes))
        if case .ecdsa = scheme { return try ECDSASignatureFormat.der(fromRaw: raw, algorithm: algorithm) }
        return raw
    }

    /// There is nothing to serialise: the key stays in the HSM.
    public func serialize(into coder: inout DER.Serializer) throws {
        throw SigningError(.invalidInput, "an HSM key cannot be serialised")
    }

    public static var defaultPEMDiscriminator: String { "PRIVATE KEY" }
}
