import CustosTestSupport
import CustosX509
import Foundation
import SwiftASN1
import Testing
import X509

/// The CMS codec (SignedData, EnvelopedData) against OpenSSL's `cms`: what OpenSSL writes parses into
/// the fields OpenSSL was given and encodes back to the same bytes, a signature OpenSSL made verifies
/// over the signed attributes as read, and what is not CMS is refused.
@Suite struct CMSTests {
    let directory: String

    init() throws {
        directory = try makeTemporaryDirectory("cms")
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-subj",
            "/CN=recipient/O=Custos Tests", "-days", "1",
        ])
        try openssl(["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"])
        try Data((0..<1000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: "\(directory)/content.bin"))
    }

    @discardableResult
    func openssl(_ arguments: [String]) throws -> CommandResult {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        return result
    }

    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
    }

    @Test(arguments: [
        ("-aes128", ContentEncryptionAlgorithm.aes128CBC), ("-aes256", .aes256CBC), ("-des3", .desEDE3CBC),
    ])
    func envelopedDataFromOpenSSLReadsAndEncodesTheSame(option: String, cipher: ContentEncryptionAlgorithm) throws {
        try openssl([
            "cms", "-encrypt", "-binary", option, "-in", "content.bin", "-outform", "DER", "-out", "env.der",
            "cert.pem",
        ])
        let der = try bytes("env.der")
        let envelope = try CMSEnvelopedData(derEncoded: der)
        #expect(envelope.contentEncryption == cipher)
        #expect(envelope.iv.count == cipher.blockLength)
        #expect(envelope.encryptedContent.count == (1000 / cipher.blockLength + 1) * cipher.blockLength)
        #expect(envelope.recipients.count == 1)
        let recipient = try #require(envelope.recipients.first)
        #expect(
            recipient.identifier
                == .issuerAndSerialNumber(try IssuerAndSerialNumber(certificate: try bytes("cert.der")))
        )
        #expect(recipient.keyEncryptionAlgorithm.algorithm == CMSObjectIdentifiers.rsaEncryption)
        #expect(recipient.encryptedKey.count == 256)
        #expect(try envelope.der() == der)

        // Re-encoded with another IV and ciphertext, OpenSSL still reads the structure (and fails only
        // at decryption, proving it parsed it).
        var changed = envelope
        changed.encryptedContent = Array(changed.encryptedContent.dropLast(cipher.blockLength))
        try Data(try changed.der()).write(to: URL(fileURLWithPath: "\(directory)/changed.der"))
        let printed = try openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", "changed.der"])
        #expect(printed.stdout.contains("envelopedData") && printed.stdout.contains("recipient"))
    }

    @Test func signedDataFromOpenSSLReadsAndItsSignatureVerifies() throws {
        try openssl([
            "cms", "-sign", "-nodetach", "-binary", "-md", "sha256", "-in", "content.bin", "-signer", "cert.pem",
            "-inkey", "key.pem", "-outform", "DER", "-out", "signed.der",
        ])
        let der = try bytes("signed.der")
        let signed = try CMSSignedDataMessage(derEncoded: der)
        #expect(signed.contentType == CMSObjectIdentifiers.data)
        #expect(signed.content == (try bytes("content.bin")))
        #expect(signed.certificates == [try bytes("cert.der")])
        let signer = try #require(signed.signers.first)
        #expect(
            signer.identifier == .issuerAndSerialNumber(try IssuerAndSerialNumber(certificate: try bytes("cert.der")))
        )
        #expect(try signer.signedAttributes.first(CMSObjectIdentifiers.contentType) != nil)
        #expect(try signer.signedAttributes.first(CMSObjectIdentifiers.messageDigest) != nil)
        let certificate = try Certificate(derEncoded: try bytes("cert.der"))
        let attributes = try #require(signer.signedAttributesDER)
        #expect(
            certificate.publicKey.isValidSignature(
                signer.signature,
                for: attributes,
                signatureAlgorithm: .sha256WithRSAEncryption
            )
        )
        #expect(
            !certificate.publicKey.isValidSignature(
                signer.signature,
                for: attributes.dropLast() + [0],
                signatureAlgorithm: .sha256WithRSAEncryption
            )
        )
        // Sorted again for DER, the attributes OpenSSL signed are the same bytes.
        #expect(try CMSSignerInfo.encode(signer.signedAttributes) == attributes)
        #expect(try signed.der() == der)
    }

    @Test func aCertsOnlyBundleWithACRLFromOpenSSLReadsAndEncodesTheSame() throws {
        try openssl(["req", "-new", "-key", "key.pem", "-subj", "/CN=x", "-out", "x.csr"])
        try "".write(toFile: "\(directory)/index.txt", atomically: true, encoding: .utf8)
        try """
        [ ca ]
        default_ca = own
        [ own ]
        database = index.txt
        crlnumber = crlnumber
        default_md = sha256
        default_crl_days = 1
        """.write(toFile: "\(directory)/ca.cnf", atomically: true, encoding: .utf8)
        try "01\n".write(toFile: "\(directory)/crlnumber", atomically: true, encoding: .utf8)
        try openssl([
            "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "key.pem", "-cert", "cert.pem", "-out", "crl.pem",
        ])
        try openssl(["crl2pkcs7", "-in", "crl.pem", "-certfile", "cert.pem", "-outform", "DER", "-out", "bundle.der"])
        try openssl(["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"])
        let der = try bytes("bundle.der")
        let bundle = try CMSSignedDataMessage(derEncoded: der)
        #expect(bundle.content == nil && bundle.signers.isEmpty)
        #expect(bundle.certificates == [try bytes("cert.der")])
        #expect(bundle.crls == [try bytes("crl.der")])
        #expect(try bundle.der() == der)
    }

    @Test func whatIsNotCMSIsRefused() throws {
        try openssl([
            "cms", "-encrypt", "-binary", "-aes128", "-in", "content.bin", "-outform", "DER", "-out", "env.der",
            "cert.pem",
        ])
        let envelope = try bytes("env.der")
        #expect(throws: CMSError.self) { try CMSSignedDataMessage(derEncoded: envelope) }
        #expect(throws: CMSError.self) { try CMSEnvelopedData(derEncoded: Array(envelope.prefix(envelope.count / 2))) }
        #expect(throws: CMSError.self) { try CMSEnvelopedData(derEncoded: envelope + [0]) }
        #expect(throws: CMSError.self) { try CMSEnvelopedData(derEncoded: [0x30, 0x03, 0x06, 0x01, 0x00]) }
        #expect(throws: CMSError.self) { try CMSSignedDataMessage(derEncoded: Array("MIIB garbage".utf8)) }
        // An IV of the wrong length for the cipher.
        var parsed = try CMSEnvelopedData(derEncoded: envelope)
        parsed.iv = [0, 1, 2]
        #expect(throws: CMSError.self) { try CMSEnvelopedData(derEncoded: try parsed.der()) }
    }
}
