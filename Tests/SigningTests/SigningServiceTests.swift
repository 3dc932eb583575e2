import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Signing
import Testing

/// The signing service over a real token and store, without HTTP: keys made in the HSM and recorded,
/// batches signed across pooled sessions, signatures that openssl and swift-crypto accept, and
/// refusals that sign nothing.
@Suite struct SigningServiceTests {
    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .rsa2048, .ed25519])
    func aBatchIsSignedInTheHSMAndVerifiesOutsideIt(_ algorithm: KeyAlgorithm) async throws {
        let fixture = try await DomainFixture(prefix: "sig")
        let key = try await fixture.signing.keys.create(
            name: "line-\(algorithm.rawValue)",
            algorithm: algorithm,
            requester: DomainFixture.requester
        )
        #expect(key.algorithm == algorithm)
        let messages = (0..<40).map { Array("message \($0) for \(algorithm.rawValue)".utf8) }
        let results = try await fixture.signing.sign(key.name, messages.map { .init(input: .message($0)) })
        #expect(results.count == messages.count)
        let scheme = algorithm.defaultScheme
        for (message, result) in zip(messages, results) {
            let signature = try result.get()
            #expect(key.publicKey.isValidSignature(signature.bytes, scheme: signature.scheme, input: .message(message)))
            #expect(!key.publicKey.isValidSignature(signature.bytes, scheme: scheme, input: .message(message + [0])))
        }
        // The token's own check agrees, and a changed signature fails it.
        var changed = try results[0].get().bytes
        changed[changed.count / 2] ^= 0x01
        let verified = try await fixture.signing.verify(
            key.name,
            [
                .init(input: .message(messages[0]), signature: try results[0].get().bytes),
                .init(input: .message(messages[0]), signature: changed),
            ]
        )
        #expect(try verified.map { try $0.get() } == [true, false])
        // openssl verifies the first signature with the public key the registry recorded.
        let directory = fixture.directory
        try Data(key.publicKey.pemRepresentation.utf8).write(to: URL(fileURLWithPath: "\(directory)/key.pem"))
        try Data(messages[0]).write(to: URL(fileURLWithPath: "\(directory)/message"))
        try Data(try results[0].get().bytes).write(to: URL(fileURLWithPath: "\(directory)/signature"))
        let check =
            if let hash = scheme.hash {
                try runCommand(
                    "openssl",
                    [
                        "dgst", "-\(hash.rawValue)", "-verify", "\(directory)/key.pem", "-signature",
                        "\(directory)/signature", "\(directory)/message",
                    ]
                )
            } else {
                try runCommand(
                    "openssl",
                    [
                        "pkeyutl", "-verify", "-pubin", "-inkey", "\(directory)/key.pem", "-rawin", "-in",
                        "\(directory)/message", "-sigfile", "\(directory)/signature",
                    ]
                )
            }
        #expect(check.status == 0 && check.stdout.contains("Verified"), "\(check)")
        #expect(try await fixture.auditActions() == ["key.generate"])
    }

    @Test func badItemsFailAloneAndADisabledKeySignsNothing() async throws {
        let fixture = try await DomainFixture(prefix: "sig")
        let key = try await fixture.signing.keys.create(
            name: "batch",
            algorithm: .ecP256,
            requester: DomainFixture.requester
        )
        let digest = Array(SHA256.hash(data: Array("x".utf8)))
        let results = try await fixture.signing.sign(
            key.name,
            [
                .init(input: .digest(digest)),
                .init(input: .digest(Array(digest.prefix(20)))),
                .init(input: .digest(digest), parameters: .init(scheme: "rsa-pss")),
            ]
        )
        #expect(
            key.publicKey.isValidSignature(try results[0].get().bytes, scheme: .ecdsa(.sha256), input: .digest(digest))
        )
        #expect(throws: SigningError.self) { try results[1].get() }
        #expect(throws: SigningError.self) { try results[2].get() }
        _ = try await fixture.signing.keys.setState(key.name, .disabled, requester: DomainFixture.requester)
        await #expect(throws: SigningError.self) {
            _ = try await fixture.signing.sign(key.name, [.init(input: .digest(digest))])
        }
        await #expect(throws: SigningError.self) {
            _ = try await fixture.signing.sign("no-such-key", [.init(input: .digest(digest))])
        }
        // Service keys are invisible to the API's key names, and bad names are refused before the HSM.
        await #expect(throws: SigningError.self) {
            _ = try await fixture.signing.keys.create(
                name: "custos-x",
                algorithm: .ecP256,
                requester: DomainFixture.requester
            )
        }
        #expect(try await fixture.auditActions() == ["key.generate", "key.disable"])
    }
}
