import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Testing

/// The one rule, checked on the files: after keys are generated, used and recorded, neither the store's
/// data file nor the service's output contains private key material or PINs.
@Suite struct KeyMaterialScanTests {
    @Test func theStoreAndTheLogsHoldNoPrivateKeyMaterial() async throws {
        // A key whose private scalar the test may read (extractable, not sensitive: for this test only),
        // so that the scan has real bytes to look for.
        let environment = SoftHSMEnvironment.shared
        let token = try environment.makeToken(prefix: "scan")
        let session = try environment.module.openSession(try environment.module.slot(tokenLabel: token.label))
        try session.login(.user, pin: token.userPIN)
        var templates = KeyAlgorithm.ecP256.signingKeyPairTemplates(label: "readable", id: [7])
        templates.private.set(.bool(.sensitive, false))
        templates.private.set(.bool(.extractable, true))
        let pair = try session.generateKeyPair(
            Mechanism(.ecKeyPairGen),
            publicKey: templates.public,
            privateKey: templates.private
        )
        // CKA_VALUE is the scalar as a big integer: SoftHSM drops leading zero bytes (1 key in 256 has 31).
        let scalar = try session.attribute(.value, of: pair.privateKey)
        #expect((24...32).contains(scalar.count), "\(scalar.count) bytes")
        let publicKey = try session.publicKey(of: pair.publicKey)

        // Record the key, sign with it and audit that, the way services will.
        let dataDirectory = try makeTemporaryDirectory("scan")
        let (schema, writer) = try await CustosStore.open(dataDirectory: dataDirectory)
        let prepared = try SignatureScheme.ecdsa(.sha256).prepare(.message(Array("unit 1".utf8)))
        let signature = try session.sign(prepared.mechanism, key: pair.privateKey, data: prepared.data)
        try await writer.write { txn in
            try txn.save(
                KeyRecord(
                    name: "readable",
                    token: token.label,
                    label: "readable",
                    id: [7],
                    algorithm: "ec-p256",
                    publicKey: publicKey.derRepresentation,
                    usage: ["sign"],
                    state: .active,
                    created: 0
                ),
                in: schema
            )
            try txn.appendAudit(
                AuditEvent(
                    actor: "test",
                    action: "key.sign",
                    object: "readable",
                    outcome: "signature \(signature.count) bytes"
                ),
                in: schema
            )
        }
        writer.shutdown()

        // And run the service on its own token, with its output captured.
        let serveDirectory = try makeTemporaryDirectory("scan-serve")
        let serve = try ServeProcess([], directory: serveDirectory)
        #expect(try await serve.waitFor("serving"), "\(serve.text)")
        let status = try await serve.stop()
        #expect(status == 0, "\(serve.text)")
        let userPIN = try String(contentsOfFile: "\(serveDirectory)/.custos/user.pin", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let soPIN = try String(contentsOfFile: "\(serveDirectory)/.custos/so.pin", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let files = [
            "\(dataDirectory)/store/data.mdb", "\(serveDirectory)/.custos/store/data.mdb",
        ]
        for file in files {
            let contents = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(contents.range(of: Data(scalar)) == nil, "private scalar found in \(file)")
            #expect(contents.range(of: Data("PRIVATE KEY".utf8)) == nil, "PEM private key found in \(file)")
            #expect(contents.range(of: Data(userPIN.utf8)) == nil, "user PIN found in \(file)")
            #expect(contents.range(of: Data(soPIN.utf8)) == nil, "SO PIN found in \(file)")
        }
        // The public key is there (the scan would see key bytes if they were stored).
        let store = try Data(contentsOf: URL(fileURLWithPath: files[0]))
        #expect(store.range(of: Data(publicKey.derRepresentation)) != nil)
        #expect(!serve.text.contains(userPIN))
        #expect(!serve.text.contains(soPIN))
        #expect(!serve.text.contains("PRIVATE KEY"))
    }
}
