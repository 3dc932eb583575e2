import Crypto
import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// Opens a logged-in session on a fresh token of the shared SoftHSM module.
func userSession() throws -> (Session, TestToken) {
    let environment = SoftHSMEnvironment.shared
    let token = try environment.makeToken(prefix: "p11")
    let session = try environment.module.openSession(try environment.module.slot(tokenLabel: token.label))
    try session.login(.user, pin: token.userPIN)
    return (session, token)
}

func generate(_ algorithm: KeyAlgorithm, in session: Session, label: String = "k")
    throws -> (public: ObjectHandle, private: ObjectHandle)
{
    let id = try session.generateRandom(16)
    let templates = algorithm.signingKeyPairTemplates(label: label, id: id)
    let pair = try session.generateKeyPair(
        Mechanism(algorithm.generationMechanism),
        publicKey: templates.public,
        privateKey: templates.private
    )
    return (pair.publicKey, pair.privateKey)
}

func schemes(for algorithm: KeyAlgorithm) -> [SignatureScheme] {
    switch algorithm.keyType {
    case .rsa:
        [
            .rsaPKCS1v15(.sha256), .rsaPKCS1v15(.sha512), .rsaPSS(.sha256, saltLength: 32),
            .rsaPSS(.sha384, saltLength: 48),
        ]
    case .ecEdwards: [.ed25519]
    default: [.ecdsa(.sha256), .ecdsa(.sha384), .ecdsa(.sha512)]
    }
}

@Suite struct KeyGenerationAndSigningTests {
    @Test(arguments: KeyAlgorithm.allCases)
    func everyAlgorithmSignsAndSwiftCryptoVerifies(_ algorithm: KeyAlgorithm) throws {
        let (session, _) = try userSession()
        let keys = try generate(algorithm, in: session)
        let publicKey = try session.publicKey(of: keys.public)
        #expect(publicKey.algorithm == algorithm)
        // The private-key object yields the same public key (SoftHSM stores EC points on both halves).
        if algorithm.keyType == .rsa {
            #expect(try session.publicKey(of: keys.private).derRepresentation == publicKey.derRepresentation)
        }
        let message = Array("production line 7, unit 0042".utf8)
        for scheme in schemes(for: algorithm) {
            let prepared = try scheme.prepare(.message(message))
            let signature = try session.sign(prepared.mechanism, key: keys.private, data: prepared.data)
            #expect(publicKey.isValidSignature(signature, scheme: scheme, input: .message(message)), "\(scheme)")
            #expect(try session.verify(prepared.mechanism, key: keys.public, data: prepared.data, signature: signature))
            var tampered = message
            tampered[0] ^= 1
            #expect(!publicKey.isValidSignature(signature, scheme: scheme, input: .message(tampered)))
            if let hash = scheme.hash {
                // Signing a caller-supplied digest gives a signature over the same message.
                let digested = try scheme.prepare(.digest(hash.digest(message)))
                let again = try session.sign(digested.mechanism, key: keys.private, data: digested.data)
                #expect(publicKey.isValidSignature(again, scheme: scheme, input: .message(message)))
            }
        }
    }

    @Test func ecdsaSignaturesConvertBetweenRawAndDER() throws {
        let (session, _) = try userSession()
        let keys = try generate(.ecP384, in: session)
        let prepared = try SignatureScheme.ecdsa(.sha384).prepare(.message([1, 2, 3]))
        let raw = try session.sign(prepared.mechanism, key: keys.private, data: prepared.data)
        #expect(raw.count == 96)
        let der = try ECDSASignatureFormat.der(fromRaw: raw, algorithm: .ecP384)
        #expect(der.first == 0x30)
        #expect(try ECDSASignatureFormat.raw(fromDER: der, algorithm: .ecP384) == raw)
        let publicKey = try session.publicKey(of: keys.public)
        #expect(publicKey.isValidSignature(der, scheme: .ecdsa(.sha384), input: .message([1, 2, 3])))
    }

    @Test func ed25519RefusesADigest() throws {
        #expect(throws: PKCS11Error.self) {
            try SignatureScheme.ed25519.prepare(.digest([UInt8](repeating: 0, count: 32)))
        }
        #expect(throws: PKCS11Error.self) { try SignatureScheme.ecdsa(.sha256).prepare(.digest([1, 2, 3])) }
    }
}
