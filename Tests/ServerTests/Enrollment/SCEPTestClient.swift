import Crypto
import CustosTestSupport
import CustosX509
import Foundation
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// A SCEP client made of OpenSSL (keys, CSRs with a challengePassword, `cms -encrypt` for the
/// pkcsPKIEnvelope, `cms -decrypt` for answers) and the CMS codec with swift-crypto for the signed
/// attributes OpenSSL cannot write: enough to send the messages pki never sends (tampered, wrongly
/// encrypted, unknown types) and to read every field of the CertRep.
struct SCEPTestClient {
    let directory: String
    let name: String
    let key: _RSA.Signing.PrivateKey
    /// The self-signed certificate that signs first requests.
    let certificate: [UInt8]

    init(directory: String, name: String) throws {
        self.directory = directory
        self.name = name
        try Self.openssl(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name)-self.pem",
                "-subj", "/CN=\(name)", "-days", "1",
            ],
            in: directory
        )
        try Self.openssl(
            ["x509", "-in", "\(name)-self.pem", "-outform", "DER", "-out", "\(name)-self.der"],
            in: directory
        )
        key = try _RSA.Signing.PrivateKey(
            pemRepresentation: String(contentsOfFile: "\(directory)/\(name).key", encoding: .utf8)
        )
        certificate = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)-self.der")))
    }

    @discardableResult
    static func openssl(_ arguments: [String], in directory: String) throws -> CommandResult {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments): \(result.stderr)") }
        return result
    }

    func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
    }
    func write(_ bytes: [UInt8], _ name: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
    }

    /// A PKCS#10 request for this client's key with `subject` lines (`CN = x`) and a challenge password.
    func csr(_ subject: [String], password: String?) throws -> [UInt8] {
        var config = "[req]\nprompt = no\ndistinguished_name = dn\n"
        if password != nil { config += "attributes = attrs\n" }
        config += "[dn]\n" + subject.joined(separator: "\n") + "\n"
        if let password { config += "[attrs]\nchallengePassword = \(password)\n" }
        try config.write(toFile: "\(directory)/\(name).cnf", atomically: true, encoding: .utf8)
        try Self.openssl(
            ["req", "-new", "-config", "\(name).cnf", "-key", "\(name).key", "-outform", "DER", "-out", "\(name).csr"],
            in: directory
        )
        return try file("\(name).csr")
    }

    /// A PKIOperation message of `type` carrying `content` encrypted (by OpenSSL) to `recipient` (PEM
    /// path), signed by this client's key with `signer` as its certificate.
    func message(
        type: String,
        content: [UInt8],
        transaction: String,
        nonce: [UInt8],
        recipient: String,
        signer: [UInt8]? = nil,
        cipher: String = "-aes128",
        tamper: Bool = false
    ) throws -> [UInt8] {
        try write(content, "\(name).content")
        try Self.openssl(
            [
                "cms", "-encrypt", "-binary", cipher, "-in", "\(name).content", "-outform", "DER", "-out",
                "\(name).env", recipient,
            ],
            in: directory
        )
        let envelope = try file("\(name).env")
        func string(_ text: String) throws -> [UInt8] { try derBytes(ASN1PrintableString(text)) }
        let attributes = [
            try CMSAttribute(type: CMSObjectIdentifiers.contentType, value: CMSObjectIdentifiers.data),
            try CMSAttribute(
                type: CMSObjectIdentifiers.messageDigest,
                value: ASN1OctetString(contentBytes: Array(SHA256.hash(data: envelope))[...])
            ),
            CMSAttribute(type: [2, 16, 840, 1, 113_733, 1, 9, 2], values: [try string(type)]),
            CMSAttribute(type: [2, 16, 840, 1, 113_733, 1, 9, 7], values: [try string(transaction)]),
            try CMSAttribute(
                type: [2, 16, 840, 1, 113_733, 1, 9, 5],
                value: ASN1OctetString(contentBytes: nonce[...])
            ),
        ]
        var signature = Array(
            try key.signature(for: try CMSSignerInfo.encode(attributes), padding: .insecurePKCS1v1_5).rawRepresentation
        )
        if tamper { signature[signature.count - 1] ^= 0x01 }
        let signerCertificate = signer ?? certificate
        let signerInfo = try CMSSignerInfo(
            identifier: .issuerAndSerialNumber(try IssuerAndSerialNumber(certificate: signerCertificate)),
            digestAlgorithm: CMSAlgorithmIdentifier([2, 16, 840, 1, 101, 3, 4, 2, 1]),
            signedAttributes: attributes,
            signatureAlgorithm: CMSAlgorithmIdentifier(CMSObjectIdentifiers.rsaEncryption, parameters: [0x05, 0x00]),
            signature: signature
        )
        return try CMSSignedDataMessage(content: envelope, certificates: [signerCertificate], signers: [signerInfo])
            .der()
    }

    /// A CertRep's fields, its signature checked with `ra` (DER), and on success the certificates and
    /// CRLs of the envelope, opened by OpenSSL with this client's key.
    struct Reply {
        var status: String
        var failInfo: String?
        var transaction: String
        var recipientNonce: [UInt8]
        var signatureVerifies: Bool
        var certificates: [[UInt8]] = []
        var crls: [[UInt8]] = []
    }

    func read(_ reply: [UInt8], ra: [UInt8], signer: String? = nil) throws -> Reply {
        let signed = try CMSSignedDataMessage(derEncoded: reply)
        let info = try #require(signed.signers.first)
        func text(_ oid: ASN1ObjectIdentifier) throws -> String? {
            guard let value = try info.signedAttributes.first(oid)?.singleValue() else { return nil }
            return String(decoding: Array(try ASN1PrintableString(derEncoded: value).bytes), as: UTF8.self)
        }
        let nonce = try #require(try info.signedAttributes.first([2, 16, 840, 1, 113_733, 1, 9, 6])?.singleValue())
        let raCertificate = try Certificate(derEncoded: ra)
        var result = Reply(
            status: try #require(try text([2, 16, 840, 1, 113_733, 1, 9, 3])),
            failInfo: try text([2, 16, 840, 1, 113_733, 1, 9, 4]),
            transaction: try #require(try text([2, 16, 840, 1, 113_733, 1, 9, 7])),
            recipientNonce: Array(try ASN1OctetString(derEncoded: nonce).bytes),
            signatureVerifies: raCertificate.publicKey.isValidSignature(
                info.signature,
                for: try #require(info.signedAttributesDER),
                signatureAlgorithm: .sha256WithRSAEncryption
            )
        )
        if let envelope = signed.content {
            try write(envelope, "\(name).reply.env")
            try Self.openssl(
                [
                    "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "\(name).reply.env", "-inkey", "\(name).key",
                    "-recip", signer ?? "\(name)-self.pem", "-out", "\(name).reply.p7",
                ],
                in: directory
            )
            let inner = try CMSSignedDataMessage(derEncoded: try file("\(name).reply.p7"))
            result.certificates = inner.certificates
            result.crls = inner.crls
        }
        return result
    }
}
