import CMP
import Crypto
import CustosX509
import Foundation
import SwiftASN1
import Testing
import X509

/// CMP messages as OpenSSL 3.0's client and mock server write them: read field by field, their
/// protections checked, and failure bits compared with what OpenSSL put in.
@Suite struct CMPMessageTests {
    @Test func macProtectedInitializationRequestFromOpenSSL() throws {
        let openssl = try OpenSSLMessages()
        try openssl.macIR()
        let ir = try PKIMessage(derEncoded: try openssl.bytes("ir-req1.der"))
        #expect(ir.header.pvno == 2)
        #expect(ir.header.senderKID == Array("device-ref".utf8))
        #expect(ir.header.transactionID?.count == 16 && ir.header.senderNonce?.count == 16)
        #expect(ir.header.recipient == .directoryName(try DistinguishedName { CommonName("Mock CA") }))
        guard case .ir(let requests) = ir.body, let request = requests.first else {
            Issue.record("not an ir: \(ir.body.name)")
            return
        }
        #expect(requests.count == 1 && request.certReqID == 0)
        #expect(request.template.subject == (try DistinguishedName { CommonName("device-1") }))
        #expect(try request.template.alternativeNames == [.dnsName("device-1.example")])
        let deviceKey = try Certificate(pemEncoded: String(contentsOfFile: openssl.path("device.pem"), encoding: .utf8))
            .publicKey
        #expect(try request.template.publicKey() == deviceKey)
        try request.verifyProofOfPossession()

        guard case .passwordBasedMAC(let pbm) = try ir.messageProtection() else {
            Issue.record("not protected by PasswordBasedMac")
            return
        }
        #expect(pbm.oneWayFunction == .sha256 && pbm.mac == .sha1 && pbm.iterations == 500)
        try ir.verifyMAC(secret: Array(openssl.secret.utf8))
        #expect(throws: CMPError.self) { try ir.verifyMAC(secret: Array("another secret".utf8)) }
        var tampered = try openssl.bytes("ir-req1.der")
        tampered[tampered.count - 30] ^= 1  // inside the protection bits or just before: the MAC fails either way
        if let message = try? PKIMessage(derEncoded: tampered) {
            #expect(throws: CMPError.self) { try message.verifyMAC(secret: Array(openssl.secret.utf8)) }
        }

        let ip = try PKIMessage(derEncoded: try openssl.bytes("ir-rsp1.der"))
        guard case .ip(let answer) = ip.body, let response = answer.responses.first else {
            Issue.record("not an ip")
            return
        }
        let deviceDER = try openssl.derOfDevice()
        #expect(response.status.status == .accepted && response.certificate == deviceDER)
        #expect(ip.header.transactionID == ir.header.transactionID && ip.header.recipientNonce == ir.header.senderNonce)

        let certConf = try PKIMessage(derEncoded: try openssl.bytes("ir-req2.der"))
        guard case .certConf(let statuses) = certConf.body, let status = statuses.first else {
            Issue.record("not a certConf")
            return
        }
        let device = try openssl.derOfDevice()
        #expect(status.accepted && status.certReqID == 0 && status.certHash == Array(SHA256Digest.of(device)))
        #expect(certConf.header.recipientNonce == ip.header.senderNonce)
        let pkiConf = try PKIMessage(derEncoded: try openssl.bytes("ir-rsp2.der"))
        #expect(pkiConf.body == .pkiConf)
    }

    @Test func signedRequestsVerifyWithTheirFirstExtraCertificate() throws {
        let openssl = try OpenSSLMessages()
        try openssl.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "new.key"])
        // The mock answers with the old certificate, which the client rejects (another key): the request
        // is what this test reads.
        _ = try? openssl.transaction(
            "kur",
            client: [
                "-cmd", "kur", "-cert", "device.pem", "-key", "device.key", "-newkey", "new.key",
                "-srvcert", "ca.pem",
            ],
            server: ["-srv_cert", "ca.pem", "-srv_key", "ca.key", "-srv_trusted", "ca.pem"]
        )
        let kur = try PKIMessage(derEncoded: try openssl.bytes("kur-req1.der"))
        guard case .kur(let requests) = kur.body, let request = requests.first else {
            Issue.record("not a kur")
            return
        }
        let certificates = try kur.extraCertificates()
        let device = try Certificate(derEncoded: try openssl.derOfDevice())
        #expect(certificates.first == device)
        try kur.verifySignature(certificate: device)
        let ca = try Certificate(pemEncoded: String(contentsOfFile: openssl.path("ca.pem"), encoding: .utf8))
        #expect(throws: CMPError.self) { try kur.verifySignature(certificate: ca) }
        let old = try request.oldCertificateID()
        #expect(old?.serial == Array(device.serialNumber.bytes) && old?.issuer == .directoryName(device.issuer))
        try request.verifyProofOfPossession()
        #expect(kur.header.senderKID == (try device.extensions.subjectKeyIdentifier).map { Array($0.keyIdentifier) })
    }

    @Test func p10crRevocationAndGeneralMessages() throws {
        let openssl = try OpenSSLMessages()
        let mac = ["-ref", "r", "-secret", "pass:" + openssl.secret]
        let server = ["-srv_ref", "s", "-srv_secret", "pass:" + openssl.secret]
        try openssl.transaction("p10", client: ["-cmd", "p10cr", "-csr", "device.csr"] + mac, server: server)
        guard case .p10cr(let csr) = try PKIMessage(derEncoded: try openssl.bytes("p10-req1.der")).body else {
            Issue.record("not a p10cr")
            return
        }
        #expect(csr == (try openssl.derOfCSR()))

        try openssl.transaction(
            "rr",
            client: ["-cmd", "rr", "-oldcert", "device.pem", "-revreason", "4"] + mac,
            server: server,
            messages: 1
        )
        guard case .rr(let revocations) = try PKIMessage(derEncoded: try openssl.bytes("rr-req1.der")).body,
            let revocation = revocations.first
        else {
            Issue.record("not an rr")
            return
        }
        let device = try Certificate(derEncoded: try openssl.derOfDevice())
        #expect(revocation.reason == 4 && revocation.certificate.issuer == device.issuer)
        #expect(revocation.certificate.serialNumber == Array(device.serialNumber.bytes))
        guard case .rp(let answer) = try PKIMessage(derEncoded: try openssl.bytes("rr-rsp1.der")).body else {
            Issue.record("not an rp")
            return
        }
        #expect(answer.statuses.map(\.status) == [.accepted])

        try openssl.transaction(
            "genm",
            client: ["-cmd", "genm", "-infotype", "signKeyPairTypes"] + mac,
            server: server,
            messages: 1
        )
        guard case .genm(let items) = try PKIMessage(derEncoded: try openssl.bytes("genm-req1.der")).body else {
            Issue.record("not a genm")
            return
        }
        #expect(items == [InfoTypeAndValue([1, 3, 6, 1, 5, 5, 7, 4, 2])])  // id-it-signKeyPairTypes
    }

    @Test func failureBitsAsOpenSSLWritesThem() throws {
        let openssl = try OpenSSLMessages()
        for bit in [1, 9, 19, 23, 26] {
            let name = "fail\(bit)"
            _ = try? openssl.transaction(
                name,
                client: [
                    "-cmd", "ir", "-ref", "r", "-secret", "pass:" + openssl.secret, "-newkey", "device.key",
                    "-subject", "/CN=device-1",
                ],
                server: [
                    "-srv_ref", "s", "-srv_secret", "pass:" + openssl.secret, "-pkistatus", "2", "-failure",
                    "\(bit)",
                ],
                messages: 1
            )
            let answer = try PKIMessage(derEncoded: try openssl.bytes("\(name)-rsp1.der"))
            let status: PKIStatusInfo? =
                switch answer.body {
                case .ip(let content): content.responses.first?.status
                case .error(let error): error.status
                default: nil
                }
            #expect(status?.status == .rejection)
            #expect(status?.failInfo == PKIFailureInfo(rawValue: 1 << UInt32(bit)), "bit \(bit)")
        }
    }

    @Test func garbageAndTruncatedMessagesAreBadDataFormat() throws {
        let openssl = try OpenSSLMessages()
        try openssl.macIR()
        let ir = try openssl.bytes("ir-req1.der")
        for bad in [[], [0x30, 0x00], Array(ir.prefix(ir.count / 2)), ir + [0], [UInt8](repeating: 0xFF, count: 64)] {
            do {
                _ = try PKIMessage(derEncoded: bad)
                Issue.record("\(bad.count) bytes were read as a message")
            } catch {
                #expect(error.failInfo == .badDataFormat)
            }
        }
    }
}

extension OpenSSLMessages {
    func derOfDevice() throws -> [UInt8] {
        try openssl(["x509", "-in", "device.pem", "-outform", "DER", "-out", "device.der"])
        return try bytes("device.der")
    }

    func derOfCSR() throws -> [UInt8] {
        try openssl(["req", "-in", "device.csr", "-outform", "DER", "-out", "device-csr.der"])
        return try bytes("device-csr.der")
    }
}

enum SHA256Digest {
    static func of(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = Crypto.SHA256()
        hasher.update(data: bytes)
        return Array(hasher.finalize())
    }
}
