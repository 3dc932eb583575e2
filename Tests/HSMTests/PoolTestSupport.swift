import CustosTestSupport
import Foundation
import HSM
import PKCS11
import Testing

/// A pool on a fresh token with one signing key, on `modulePath` (the shared SoftHSM by default).
struct PoolFixture {
    /// Held so the module stays initialised from token creation to the pool (one C_Initialize).
    let module: Module
    let pool: SessionPool
    let token: TestToken
    let key: KeyReference
    let publicKey: PublicKey

    init(
        modulePath: String = SoftHSMEnvironment.shared.modulePath,
        sessions: Int = 2,
        waitTimeout: Duration = .seconds(10),
        keepalive: Duration? = nil,
        algorithm: KeyAlgorithm = .ecP256
    ) async throws {
        module = try Module.load(path: modulePath)
        token = try SoftHSMEnvironment.shared.makeToken(prefix: "pool", on: module)
        var configuration = SessionPoolConfiguration(
            modulePath: modulePath,
            token: .label(token.label),
            pin: token.userPIN,
            sessions: sessions,
            waitTimeout: waitTimeout
        )
        let setup = try await SessionPool.start(configuration)
        let store = KeyStore(pool: setup)
        key = try await store.generate(algorithm, label: "signing")
        publicKey = try await store.publicKey(key)
        if let keepalive {
            setup.shutdown()
            configuration.keepaliveInterval = keepalive
            configuration.keepaliveKey = key
            pool = try await SessionPool.start(configuration)
        } else {
            pool = setup
        }
    }

    var store: KeyStore { KeyStore(pool: pool) }

    /// Signs and checks the signature with swift-crypto, so a wrong result cannot pass.
    func signAndCheck(_ text: String = "payload") async throws {
        let input = SigningInput.message(Array(text.utf8))
        let signature = try await store.sign(key, scheme: .ecdsa(.sha256), input: input)
        #expect(publicKey.isValidSignature(signature, scheme: .ecdsa(.sha256), input: input))
    }
}

/// Polls `condition` until it holds or `timeout` passes; for effects of background threads.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
