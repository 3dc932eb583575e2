import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// Private keys are sensitive, never extractable, and can do nothing but sign.
@Suite struct KeyProtectionTests {
    @Test(arguments: [KeyAlgorithm.ecP256, .rsa2048, .ed25519])
    func privateKeyValueCannotBeRead(_ algorithm: KeyAlgorithm) throws {
        let (session, _) = try userSession()
        let keys = try generate(algorithm, in: session)
        // The secret part: CKA_PRIVATE_EXPONENT for RSA, CKA_VALUE for EC and EdDSA keys.
        let secret: AttributeType = algorithm.keyType == .rsa ? AttributeType(rawValue: 0x123) : .value
        do {
            _ = try session.attribute(secret, of: keys.private)
            Issue.record("reading the private key value succeeded")
        } catch {
            #expect(error.returnValue == .attributeSensitive)
            #expect(error.function == "C_GetAttributeValue")
            #expect(error.description.contains("CKR_ATTRIBUTE_SENSITIVE"))
        }
        #expect(try session.boolAttribute(.sensitive, of: keys.private))
        #expect(try !session.boolAttribute(.extractable, of: keys.private))
        #expect(try session.boolAttribute(.alwaysSensitive, of: keys.private))
        #expect(try session.boolAttribute(.neverExtractable, of: keys.private))
        #expect(try session.boolAttribute(.token, of: keys.private))
        #expect(try session.boolAttribute(.private, of: keys.private))
        #expect(try session.boolAttribute(.sign, of: keys.private))
        #expect(try !session.boolAttribute(.decrypt, of: keys.private))
        #expect(try !session.boolAttribute(.unwrap, of: keys.private))
        #expect(try !session.boolAttribute(.derive, of: keys.private))
    }

    @Test func pkcs11ToolReportsKeysAsSensitiveAndNeverExtractable() throws {
        let (session, token) = try userSession()
        _ = try generate(.ecP256, in: session, label: "tool-visible")
        let environment = SoftHSMEnvironment.shared
        let result = try runCommand(
            "pkcs11-tool",
            [
                "--module", environment.modulePath, "--token-label", token.label, "--login", "--pin", token.userPIN,
                "--list-objects", "--type", "privkey",
            ],
            environment: ["SOFTHSM2_CONF": environment.configPath]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let access = result.stdout.split(separator: "\n").first { $0.contains("Access:") }.map(String.init) ?? ""
        #expect(access.contains("sensitive"), "\(result.stdout)")
        #expect(access.contains("never extractable"), "\(result.stdout)")
        #expect(result.stdout.contains("tool-visible"))
        let usage = result.stdout.split(separator: "\n").first { $0.contains("Usage:") }.map(String.init) ?? ""
        #expect(usage.contains("sign"))
        #expect(!usage.contains("decrypt"))
    }

    /// Imported key values are cleared where they are stored: also in the arrays a template shares
    /// with its caller and with templates built from it, not in a private copy.
    @Test func wipingATemplateClearsEverySharedCopyOfItsValues() {
        let secret: [UInt8] = (1...48).map { UInt8($0) }
        let material: AttributeTemplate = [.bytes(.value, secret), .bytes(.prime1, secret + [9])]
        var combined: AttributeTemplate = [.label("imported")]
        combined.attributes += material.attributes
        material.wipe()
        #expect(secret.allSatisfy { $0 == 0 })
        #expect(combined[.value] == [UInt8](repeating: 0, count: 48))
        #expect(combined[.prime1] == [UInt8](repeating: 0, count: 49))
        #expect(combined[.label] == Array("imported".utf8), "attributes not in the wiped template stay")
    }

    @Test func attributeSizesMustBeExact() throws {
        let (session, _) = try userSession()
        _ = try generate(.ecP256, in: session, label: "sized")
        // CKA_CLASS is a CK_ULONG (8 bytes here); a 4-byte value silently matches nothing on SoftHSM.
        let wrongSize = AttributeTemplate([Attribute(.objectClass, bytes: [3, 0, 0, 0]), .label("sized")])
        let found = (try? session.findObjects(wrongSize)) ?? []
        #expect(found.isEmpty)
        #expect(try session.findObjects([.objectClass(.privateKey), .label("sized")]).count == 1)
        #expect(Attribute.ulong(.objectClass, 3).value.count == MemoryLayout<UInt>.size)
        #expect(Attribute.bool(.sign, true).value == [1])
    }
}
