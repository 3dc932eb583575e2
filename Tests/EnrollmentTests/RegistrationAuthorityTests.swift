import CA
import CustosTestSupport
import CustosX509
import Foundation
import HSM
import MetadataStore
import PKCS11
import Testing
import X509

/// The SCEP registration authority over a real token: its key stays in the HSM (sensitive, not
/// extractable, may unwrap but not decrypt), envelopes OpenSSL encrypts to its certificate open inside
/// the token, and envelopes the token seals to an OpenSSL key open with `openssl cms -decrypt`.
@Suite struct RegistrationAuthorityTests {
    static func authority() async throws -> (DomainFixture, CertificateAuthority, RegistrationAuthorityRecord, String) {
        let fixture = try await DomainFixture(prefix: "ra")
        let authority = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        _ = try await authority.create(
            .init(id: "devices", subject: "CN=Devices,O=Custos", algorithm: .ecP256),
            requester: DomainFixture.requester
        )
        let ra = try await authority.registrationAuthority(ca: "devices", requester: DomainFixture.requester)
        let directory = try makeTemporaryDirectory("ra")
        try Data(ra.certificate).write(to: URL(fileURLWithPath: "\(directory)/ra.der"))
        try openssl(["x509", "-inform", "DER", "-in", "ra.der", "-out", "ra.pem"], in: directory)
        try Data((0..<777).map { UInt8($0 % 253) }).write(to: URL(fileURLWithPath: "\(directory)/content.bin"))
        return (fixture, authority, ra, directory)
    }

    @discardableResult
    static func openssl(_ arguments: [String], in directory: String) throws -> CommandResult {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        return result
    }

    @Test func theRAIsMadeOnceWithAKeyThatNeverLeavesTheToken() async throws {
        let (fixture, authority, ra, directory) = try await Self.authority()
        let again = try await authority.registrationAuthority(ca: "devices", requester: DomainFixture.requester)
        #expect(again == ra)
        #expect(try await fixture.auditActions().filter { $0 == "scep.ra.rotate" }.count == 1)
        let text = try Self.openssl(["x509", "-in", "ra.pem", "-noout", "-text"], in: directory).stdout
        #expect(text.contains("Digital Signature, Key Encipherment") && text.contains("CA:FALSE"), "\(text)")
        #expect(
            text.contains("CMC Registration Authority") && text.contains("RSA Public-Key: (2048 bit)")
                || text.contains("Public-Key: (2048 bit)"),
            "\(text)"
        )
        let key = try await fixture.signing.keys.serviceKey(ra.keyName)
        let attributes = try await fixture.pool.withSession { context in
            let handle = try context.privateKey(key.reference)
            return try [AttributeType.sensitive, .extractable, .unwrap, .decrypt, .sign].map {
                try context.session.boolAttribute($0, of: handle)
            }
        }
        #expect(attributes == [true, false, true, false, true])
    }

    @Test(arguments: [
        ("-aes128", EnvelopeCipher.aesCBC(keyLength: 16)), ("-aes256", .aesCBC(keyLength: 32)), ("-des3", .desEDE3CBC),
    ])
    func envelopesFromOpenSSLOpenInTheToken(option: String, cipher: EnvelopeCipher) async throws {
        let (fixture, _, ra, directory) = try await Self.authority()
        try Self.openssl(
            [
                "cms", "-encrypt", "-binary", option, "-in", "content.bin", "-outform", "DER", "-out", "env.der",
                "ra.pem",
            ],
            in: directory
        )
        let envelope = try CMSEnvelopedData(
            derEncoded: Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/env.der")))
        )
        let recipient = try #require(envelope.recipients.first)
        let key = try await fixture.signing.keys.serviceKey(ra.keyName).reference
        let opened = try await fixture.signing.keyStore.openEnvelope(
            recipient: key,
            encryptedKey: recipient.encryptedKey,
            cipher: cipher,
            iv: envelope.iv,
            ciphertext: envelope.encryptedContent
        )
        #expect(opened == Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/content.bin"))))
        // A key encrypted to someone else, or a damaged ciphertext, does not open.
        await #expect(throws: (any Error).self) {
            try await fixture.signing.keyStore.openEnvelope(
                recipient: key,
                encryptedKey: recipient.encryptedKey.reversed(),
                cipher: cipher,
                iv: envelope.iv,
                ciphertext: envelope.encryptedContent
            )
        }
    }

    /// Several first requests at once (a fleet switched on together) make one RA: one key on the token,
    /// one certificate, one audit entry, the same answer for all.
    @Test func simultaneousFirstRequestsMakeOneRA() async throws {
        let fixture = try await DomainFixture(prefix: "ra-race")
        let authority = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        _ = try await authority.create(
            .init(id: "fleet", subject: "CN=Fleet,O=Custos", algorithm: .ecP256),
            requester: DomainFixture.requester
        )
        let records = try await withThrowingTaskGroup(of: RegistrationAuthorityRecord.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await authority.registrationAuthority(ca: "fleet", requester: DomainFixture.requester)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(records).count == 1 && records.count == 6)
        #expect(try await fixture.auditActions().filter { $0 == "scep.ra.rotate" }.count == 1)
        #expect(try await fixture.auditActions().filter { $0 == "scep.ra.issue" }.count == 1)
        let objects = try await fixture.pool.withSession { context in
            try context.session.findObjects([.label("custos-scep-ra-fleet-g1")], limit: 16).count
        }
        #expect(objects == 2, "the private and the public half, once")
    }

    @Test(arguments: [ContentEncryptionAlgorithm.aes128CBC, .aes256CBC, .desEDE3CBC])
    func envelopesSealedInTheTokenOpenInOpenSSL(algorithm: ContentEncryptionAlgorithm) async throws {
        let (fixture, _, _, directory) = try await Self.authority()
        try Self.openssl(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "device.key", "-out", "device.pem",
                "-subj", "/CN=device", "-days", "1",
            ],
            in: directory
        )
        try Self.openssl(["x509", "-in", "device.pem", "-outform", "DER", "-out", "device.der"], in: directory)
        let modulusHex = try Self.openssl(["x509", "-in", "device.pem", "-noout", "-modulus"], in: directory).stdout
            .split(separator: "=").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        let modulus = stride(from: 0, to: modulusHex.count, by: 2).map {
            UInt8(modulusHex.dropFirst($0).prefix(2), radix: 16)!
        }
        let content = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/content.bin")))
        let cipher: EnvelopeCipher = algorithm == .desEDE3CBC ? .desEDE3CBC : .aesCBC(keyLength: algorithm.keyLength)
        let sealed = try await fixture.signing.keyStore.sealEnvelope(
            modulus: modulus,
            exponent: [1, 0, 1],
            cipher: cipher,
            plaintext: content
        )
        let envelope = CMSEnvelopedData(
            recipients: [
                .init(
                    identifier: .issuerAndSerialNumber(
                        try IssuerAndSerialNumber(
                            certificate: Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/device.der")))
                        )
                    ),
                    encryptedKey: sealed.encryptedKey
                )
            ],
            contentEncryption: algorithm,
            iv: sealed.iv,
            encryptedContent: sealed.ciphertext
        )
        try Data(try envelope.der()).write(to: URL(fileURLWithPath: "\(directory)/sealed.der"))
        try Self.openssl(
            [
                "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "sealed.der", "-recip", "device.pem", "-inkey",
                "device.key", "-out", "opened.bin",
            ],
            in: directory
        )
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/opened.bin"))) == content)
        #expect(sealed.ciphertext != content && !sealed.ciphertext.isEmpty)
    }
}
