import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// AES-GCM, AES key wrap and the RNG through the layer.
@Suite struct SymmetricOperationTests {
    func aesKey(_ session: Session, extractable: Bool, wrapping: Bool) throws -> ObjectHandle {
        try session.generateKey(
            Mechanism(.aesKeyGen),
            [
                .objectClass(.secretKey), .keyType(.aes), .ulong(.valueLength, 32), .bool(.token, false),
                .bool(.sensitive, true), .bool(.extractable, extractable), .bool(.encrypt, true), .bool(.decrypt, true),
                .bool(.wrap, wrapping), .bool(.unwrap, wrapping), .bool(.sign, false), .bool(.derive, false),
            ]
        )
    }

    @Test func aesGCMRoundTripsAndDetectsTampering() throws {
        let (session, _) = try userSession()
        let key = try aesKey(session, extractable: false, wrapping: false)
        let iv = try session.generateRandom(12)
        let plaintext = Array("device secret 0001".utf8)
        let gcm = Mechanism(.aesGCM, .gcm(iv: iv, additionalData: Array("vault/a".utf8), tagBits: 128))
        let ciphertext = try session.encrypt(gcm, key: key, data: plaintext)
        #expect(ciphertext.count == plaintext.count + 16)
        #expect(try session.decrypt(gcm, key: key, data: ciphertext) == plaintext)
        let otherAAD = Mechanism(.aesGCM, .gcm(iv: iv, additionalData: Array("vault/b".utf8), tagBits: 128))
        #expect(throws: PKCS11Error.self) { try session.decrypt(otherAAD, key: key, data: ciphertext) }
    }

    @Test func wrappedKeyUnwrapsToAWorkingKey() throws {
        let (session, _) = try userSession()
        let kek = try aesKey(session, extractable: false, wrapping: true)
        let dataKey = try aesKey(session, extractable: true, wrapping: false)
        let wrapped = try session.wrapKey(Mechanism(.aesKeyWrapPad), wrappingKey: kek, key: dataKey)
        #expect(wrapped.count == 40)
        let unwrapped = try session.unwrapKey(
            Mechanism(.aesKeyWrapPad),
            unwrappingKey: kek,
            wrapped: wrapped,
            template: [
                .objectClass(.secretKey), .keyType(.aes), .bool(.token, false), .bool(.sensitive, true),
                .bool(.extractable, false), .bool(.encrypt, true), .bool(.decrypt, true),
            ]
        )
        let iv = try session.generateRandom(12)
        let gcm = Mechanism(.aesGCM, .gcm(iv: iv, additionalData: [], tagBits: 128))
        let ciphertext = try session.encrypt(gcm, key: dataKey, data: [1, 2, 3])
        #expect(try session.decrypt(gcm, key: unwrapped, data: ciphertext) == [1, 2, 3])
        // A non-extractable key cannot be wrapped out.
        #expect(throws: PKCS11Error.self) { try session.wrapKey(Mechanism(.aesKeyWrapPad), wrappingKey: kek, key: kek) }
    }

    @Test func randomBytesHaveTheRequestedLengthAndDiffer() throws {
        let (session, _) = try userSession()
        let a = try session.generateRandom(32)
        let b = try session.generateRandom(32)
        #expect(a.count == 32)
        #expect(a != b)
        #expect(try session.generateRandom(0).isEmpty)
    }
}
