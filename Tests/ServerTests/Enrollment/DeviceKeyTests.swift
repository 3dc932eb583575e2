import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Testing

/// Keys generated in the HSM for devices: delivered only wrapped to the caller's RSA key (unwrapped
/// here by Python's `cryptography`) or, on tokens that can, in a PKCS#12 file; certified under the CA's
/// policy, audited, and gone from the token (and never in the store) afterwards.
@Suite(.serialized, .stopsServers) struct DeviceKeyTests {
    /// Key objects on the server's token, by class.
    static func keyObjects(_ server: ServerFixture) async throws -> Int {
        try await server.pool.withSession { context in
            try [ObjectClass.privateKey, .publicKey, .secretKey].reduce(0) { count, kind in
                count + (try context.session.findObjects([.objectClass(kind)], limit: 1024).count)
            }
        }
    }

    @Test func aDeviceKeyIsDeliveredOnlyWrappedToTheCallersKey() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("device-keys")
        let created = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "devices", "algorithm": "ec-p256", "subject": "CN=Devices CA,O=Custos Tests"]
        )
        #expect(created.status == 201, "\(created.text)")
        let objectsBefore = try await Self.keyObjects(server)
        let officer = try await server.credential(.officer)
        // The production line's own RSA key, made by Python; Custos sees its public half only.
        let made = try runCommand(
            "python3",
            [
                "-c",
                """
                from cryptography.hazmat.primitives.asymmetric import rsa
                from cryptography.hazmat.primitives import serialization as s
                k = rsa.generate_private_key(public_exponent=65537, key_size=3072)
                open("line.key", "wb").write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
                open("line.pub", "wb").write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))
                """,
            ],
            currentDirectory: directory
        )
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = try String(contentsOfFile: "\(directory)/line.pub", encoding: .utf8)
        for (name, algorithm) in [("plc-4711", "ec-p256"), ("gateway-9", "rsa-2048")] {
            // SoftHSM 2.6 knows RSA-OAEP with SHA-1 only.
            let generated = try await server.request(
                "POST",
                "/v1/cas/devices/device-keys",
                token: officer,
                json: [
                    "category": "device", "subject": "CN=\(name),O=Custos Tests", "algorithm": algorithm,
                    "alternativeNames": ["dns:\(name).line3.example"], "rsaPublicKey": recipient, "oaepHash": "sha1",
                ]
            )
            try #require(generated.status == 201, "\(algorithm): \(generated.text)")
            #expect(generated.json["pkcs12"] == nil)
            let wrapped = try #require(generated.json["wrappedKey"] as? String)
            let certificate = try #require((generated.json["certificate"] as? [String: Any])?["certificate"] as? String)
            let chain = try #require((generated.json["certificate"] as? [String: Any])?["chain"] as? [String])
            try certificate.write(toFile: "\(directory)/\(name).crt", atomically: true, encoding: .utf8)
            try chain.joined(separator: "\n").write(toFile: "\(directory)/ca.pem", atomically: true, encoding: .utf8)

            // The line unwraps: RSA-OAEP gives the AES key, RFC 5649 unwrapping the PKCS#8 key, whose public
            // half is the certificate's.
            let unwrapped = try runCommand(
                "python3",
                [
                    "-c",
                    """
                    import sys, base64
                    from cryptography import x509
                    from cryptography.hazmat.primitives import hashes, serialization as s
                    from cryptography.hazmat.primitives.asymmetric import padding
                    from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
                    line = s.load_pem_private_key(open("line.key", "rb").read(), None)
                    blob = base64.b64decode(sys.argv[1])
                    n = line.key_size // 8
                    aes = line.decrypt(blob[:n], padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
                    unwrapped = aes_key_unwrap_with_padding(aes, blob[n:])
                    # SoftHSM 2.6 writes the padded length into RFC 5649's length indicator: up to seven
                    # zero bytes may follow the (self-delimiting) DER.
                    size = 2 + unwrapped[1] if unwrapped[1] < 0x80 else 2 + (unwrapped[1] & 0x7F) + int.from_bytes(unwrapped[2:2 + (unwrapped[1] & 0x7F)], "big")
                    pkcs8, rest = unwrapped[:size], unwrapped[size:]
                    assert len(rest) < 8 and not any(rest), rest
                    key = s.load_der_private_key(pkcs8, None)
                    cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
                    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
                    open(sys.argv[3], "wb").write(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
                    numbers = key.private_numbers()
                    secret = numbers.private_value if hasattr(numbers, "private_value") else numbers.p
                    open(sys.argv[3] + ".secret", "w").write("%x" % secret)
                    print(type(key).__name__, len(aes))
                    """,
                    wrapped, "\(name).crt", "\(name).key",
                ],
                currentDirectory: directory
            )
            #expect(
                unwrapped.status == 0 && unwrapped.stdout.contains(" 32"),
                "\(unwrapped.stdout) \(unwrapped.stderr)"
            )
            // openssl agrees that the key and the certificate belong together.
            let keyPublic = try runCommand("openssl", ["pkey", "-in", "\(directory)/\(name).key", "-pubout"])
            let certificatePublic = try runCommand(
                "openssl",
                ["x509", "-in", "\(directory)/\(name).crt", "-pubkey", "-noout"]
            )
            #expect(keyPublic.status == 0 && keyPublic.stdout == certificatePublic.stdout, "\(keyPublic.stderr)")

            // The certificate chains to the CA and passes pkilint.
            let verified = try runCommand(
                "openssl",
                ["verify", "-CAfile", "\(directory)/ca.pem", "\(directory)/\(name).crt"]
            )
            #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
            let lint = try runCommand(
                "lint_pkix_cert",
                ["lint", "-s", "WARNING", "-f", "CSV", "\(directory)/\(name).crt"]
            )
            #expect(lint.stdout.split(separator: "\n").dropFirst().isEmpty, "\(lint.stdout)")

            // The private key is nowhere in the store (EC: its scalar; RSA: its first prime).
            var digits = Array(try String(contentsOfFile: "\(directory)/\(name).key.secret", encoding: .utf8))
            if digits.count % 2 == 1 { digits.insert("0", at: 0) }
            let secret = stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
            #expect(secret.count >= 30)
            let store = try Data(contentsOf: URL(fileURLWithPath: "\(server.directory)/store/data.mdb"))
            #expect(store.range(of: Data(secret.prefix(24))) == nil, "the device key is in the store")
        }
        // No key object of the devices stays on the token.
        #expect(try await Self.keyObjects(server) == objectsBefore)
        let audit = try await server.api.store.read { try $0.auditEntries(after: nil, limit: 10_000) }
        let deliveries = audit.filter { $0.event.action == "enrollment.key.deliver" }
        #expect(deliveries.count == 2 && deliveries.allSatisfy { $0.event.actor.hasPrefix("credential/") })
        #expect(deliveries.first?.event.outcome.contains("RSA-OAEP-sha1") == true, "\(deliveries)")
        #expect(audit.filter { $0.event.action == "certificate.keygen" }.count == 2)
    }

    /// PKCS#12 delivery needs a token that wraps private keys with CKM_AES_CBC_PAD; SoftHSM 2.6 does
    /// not, and the answer says so (the file itself is tested in `CustosX509Tests.PKCS12Tests`).
    @Test func aTokenThatCannotWrapForPKCS12SaysSo() async throws {
        let server = try await ServerFixture()
        _ = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "devices", "algorithm": "ec-p256", "subject": "CN=Devices CA"]
        )
        let objectsBefore = try await Self.keyObjects(server)
        let refused = try await server.request(
            "POST",
            "/v1/cas/devices/device-keys",
            token: server.adminToken,
            json: ["category": "device", "subject": "CN=d1", "pkcs12": ["password": "long enough"]]
        )
        #expect(refused.status == 501 && refused.errorCode == "not_implemented", "\(refused.text)")
        #expect(
            refused.errorMessage.contains("CKR_MECHANISM_INVALID") && refused.errorMessage.contains("RSA public key")
        )
        #expect(try await Self.keyObjects(server) == objectsBefore)
        let issued = try await server.api.store.read { try $0.records(CertificateRecord.self, after: nil, limit: 100) }
        #expect(issued.filter { $0.category != "ca" }.isEmpty)
    }

    @Test func badDeviceKeyRequestsAreRefusedAndLeaveNothing() async throws {
        let server = try await ServerFixture()
        _ = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "devices", "algorithm": "ec-p256", "subject": "CN=Devices CA"]
        )
        let objectsBefore = try await Self.keyObjects(server)
        let recipient = try runCommand(
            "sh",
            ["-c", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout"]
        ).stdout
        func generate(_ fields: [String: Any], ca: String = "devices") async throws -> HTTPResult {
            var body: [String: Any] = [
                "category": "device", "subject": "CN=d1", "rsaPublicKey": recipient, "oaepHash": "sha1",
            ]
            body.merge(fields) { $1 }
            return try await server.request("POST", "/v1/cas/\(ca)/device-keys", token: server.adminToken, json: body)
        }
        let cases: [([String: Any], String, Int, String)] = [
            (["pkcs12": ["password": "short"], "rsaPublicKey": NSNull()], "devices", 400, "8 to 1024"),
            (
                ["pkcs12": ["password": "long enough", "iterations": 10], "rsaPublicKey": NSNull()], "devices", 400,
                "iterations"
            ),
            (["pkcs12": ["password": "long enough"]], "devices", 400, "exactly one"),
            (
                ["rsaPublicKey": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"], "devices", 400,
                "not a PEM RSA"
            ),
            (["oaepHash": "md5"], "devices", 400, "oaepHash"),
            (["algorithm": "ed25519"], "devices", 400, "device keys are"),
            (["algorithm": "rsa-1024"], "devices", 400, "unknown key algorithm"),
            (["subject": "CN=x,NOPE=y"], "devices", 400, "NOPE"),
            (["alternativeNames": ["ftp:x"]], "devices", 400, "is not a SAN"),
            (["subject": "CN=d1,L=Nowhere", "category": "tls-server"], "devices", 422, "rule"),
            (["category": "spaceship"], "devices", 400, "unknown category"),
            ([:], "nosuch", 400, "no CA is named"),
        ]
        for (fields, ca, status, message) in cases {
            let result = try await generate(fields, ca: ca)
            #expect(result.status == status && result.errorMessage.contains(message), "\(fields): \(result.text)")
        }
        #expect(try await Self.keyObjects(server) == objectsBefore)
        let issued = try await server.api.store.read { try $0.records(CertificateRecord.self, after: nil, limit: 100) }
        #expect(issued.filter { $0.category != "ca" }.isEmpty)
    }
}
