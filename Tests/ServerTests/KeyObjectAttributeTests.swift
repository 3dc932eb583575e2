import CustosTestSupport
import Foundation
import HSM
import MetadataStore
import PKCS11
import Server
import Signing
import Testing

/// Every kind of key object Custos makes, read back from the token: private and secret keys are
/// sensitive, never extractable and not modifiable, with only the usage their job needs; public halves
/// are not modifiable either. An imported key keeps its documented exceptions: it was not made on the
/// token (`CKA_LOCAL` false) and was once outside it (`CKA_ALWAYS_SENSITIVE` and
/// `CKA_NEVER_EXTRACTABLE` false).
@Suite(.serialized, .stopsServers) struct KeyObjectAttributeTests {
    /// The usage flags a kind of key has set; every other usage flag must be false.
    enum Usage: CustomStringConvertible {
        case signs, unwrapsOnly, encryptsAndWraps, verifies, wrapsOnly
        var granted: Set<AttributeType> {
            switch self {
            case .signs: [.sign]
            case .unwrapsOnly: [.unwrap]
            case .encryptsAndWraps: [.encrypt, .decrypt, .wrap, .unwrap]
            case .verifies: [.verify]
            case .wrapsOnly: [.wrap]
            }
        }
        var description: String { "\(granted.map(\.description).sorted())" }
    }

    @Test func everyKindOfKeyObjectIsProtectedAsTheThreatModelSays() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.ocspDelegatedSigners = true
        let server = try await ServerFixture(configuration: configuration)
        let admin = server.adminToken
        func created(_ result: HTTPResult, _ what: String) {
            #expect((200..<300).contains(result.status), "\(what): \(result.text)")
        }
        // A CA (and, with delegated signers on, its OCSP signer), a signing key, the service keys that
        // `custos serve` and `custos tls init` make, a vault namespace's KEK and its transport key.
        created(
            try await server.request(
                "POST",
                "/v1/cas",
                token: admin,
                json: ["id": "attr-root", "subject": "CN=Attribute Root", "algorithm": "ec-p256"]
            ),
            "CA"
        )
        created(try await server.request("POST", "/v1/cas/attr-root/ocsp-signer/rotate", token: admin), "signer")
        try await server.createKey("attr-signing", "rsa-2048")
        _ = try await server.api.signing.keys.createServiceKey(
            name: "custos-tls",
            algorithm: .ecP256,
            requester: Requester(actor: "test")
        )
        _ = try await KeyStore(pool: server.pool).findOrGenerate(label: "custos-audit", .ecP256)
        created(try await server.request("POST", "/v1/vault", token: admin, json: ["name": "attr"]), "namespace")
        created(try await server.request("POST", "/v1/vault/attr/transport-key", token: admin), "transport key")
        // And an imported CA key, from a PKCS#12 file openssl made.
        let directory = try makeTemporaryDirectory("custos-attr")
        for arguments in [
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/ca.key", "-subj", "/CN=Imported Root", "-days", "30", "-out", "\(directory)/ca.pem",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            [
                "pkcs12", "-export", "-inkey", "\(directory)/ca.key", "-in", "\(directory)/ca.pem", "-passout",
                "pass:p12", "-out", "\(directory)/ca.p12",
            ],
        ] {
            let result = try runCommand("openssl", arguments)
            try #require(result.status == 0, "\(result.stderr)")
        }
        let p12 = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/ca.p12")).base64EncodedString()
        created(
            try await server.request(
                "POST",
                "/v1/cas/import",
                token: admin,
                json: ["id": "attr-imported", "pkcs12": p12, "password": "p12"]
            ),
            "import"
        )

        let objects = try await server.pool.withSession { context in
            let session = context.session
            let flags: [AttributeType] = [
                .sensitive, .extractable, .modifiable, .local, .alwaysSensitive, .neverExtractable, .sign, .verify,
                .encrypt, .decrypt, .wrap, .unwrap, .derive,
            ]
            var found: [(label: String, kind: ObjectClass, flags: [AttributeType: Bool])] = []
            for kind in [ObjectClass.privateKey, .secretKey, .publicKey] {
                for handle in try session.findObjects([.objectClass(kind)], limit: 256) {
                    let label = String(decoding: try session.attribute(.label, of: handle), as: UTF8.self)
                    var values: [AttributeType: Bool] = [:]
                    for flag in flags { values[flag] = try? session.boolAttribute(flag, of: handle) }
                    found.append((label, kind, values))
                }
            }
            return found
        }

        // What each kind is for, by its label.
        func expectedUsage(_ label: String, _ kind: ObjectClass) -> Usage? {
            if label.hasPrefix("custos-kek-") { return kind == .secretKey ? .encryptsAndWraps : nil }
            if label.hasPrefix("custos-transport-") { return kind == .privateKey ? .unwrapsOnly : .wrapsOnly }
            return kind == .privateKey ? .signs : kind == .publicKey ? .verifies : nil
        }
        let kinds: [(prefix: String, kind: ObjectClass)] = [
            ("custos-ca-attr-root", .privateKey), ("custos-ocsp-", .privateKey), ("attr-signing", .privateKey),
            ("custos-tls", .privateKey), ("custos-audit", .privateKey), ("custos-kek-attr-", .secretKey),
            ("custos-transport-attr", .privateKey), ("custos-ca-attr-imported", .privateKey),
        ]
        for (prefix, kind) in kinds {
            #expect(objects.contains { $0.label.hasPrefix(prefix) && $0.kind == kind }, "no \(kind) \(prefix)…")
        }
        for object in objects {
            let name = "\(object.label) (\(object.kind))"
            #expect(object.flags[.modifiable] == false, "\(name) is modifiable")
            guard let usage = expectedUsage(object.label, object.kind) else {
                Issue.record("\(name): a key object of no known kind")
                continue
            }
            for flag: AttributeType in [.sign, .verify, .encrypt, .decrypt, .wrap, .unwrap, .derive] {
                // Tokens leave usage attributes that do not apply to a class unset; unset is not granted.
                let value = object.flags[flag] ?? false
                #expect(value == usage.granted.contains(flag), "\(name): \(flag) is \(value), expected \(usage)")
            }
            guard object.kind != .publicKey else { continue }
            #expect(object.flags[.sensitive] == true, "\(name) is not sensitive")
            #expect(object.flags[.extractable] == false, "\(name) is extractable")
            let imported = object.label == "custos-ca-attr-imported"
            #expect(object.flags[.local] == !imported, "\(name): CKA_LOCAL")
            #expect(object.flags[.alwaysSensitive] == !imported, "\(name): CKA_ALWAYS_SENSITIVE")
            #expect(object.flags[.neverExtractable] == !imported, "\(name): CKA_NEVER_EXTRACTABLE")
        }
    }
}
