import CMP
import Crypto
import CustosTestSupport
import CustosX509
import Foundation
import SwiftASN1
import Testing
import X509

/// Nested messages from a downstream registration authority (RFC 9483 section 5.2.2), which OpenSSL 3.0
/// cannot send: the RA's certificate (id-kp-cmcRA, made by OpenSSL under an anchor of the profile) signs
/// the nested message; one inner message gets its own answer, a batch a nested answer signed by the CA's
/// RA with each inner answer MAC-protected for its device; a nested message signed by anyone else is
/// refused and issues nothing.
@Suite(.serialized, .stopsServers) struct CMPNestedTests {
    struct RA {
        let key: P256.Signing.PrivateKey
        let certificate: [UInt8]
        let root: [UInt8]
        let rootPEM: String
    }

    /// An RA certificate with id-kp-cmcRA (or another EKU) under a root of its own, made by OpenSSL.
    static func makeRA(_ cmp: CMPServer, usage: String = "1.3.6.1.5.5.7.3.28") throws -> RA {
        _ = try cmp.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ra-root.key"])
        _ = try cmp.openssl([
            "req", "-x509", "-new", "-key", "ra-root.key", "-subj", "/CN=Factory RA Root", "-days", "30", "-out",
            "ra-root.pem",
        ])
        _ = try cmp.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ra.key"])
        _ = try cmp.openssl(["req", "-new", "-key", "ra.key", "-subj", "/CN=Line 3 RA", "-out", "ra.csr"])
        try "keyUsage=critical,digitalSignature\nextendedKeyUsage=\(usage)\n".write(
            toFile: cmp.directory + "/ra.ext",
            atomically: true,
            encoding: .utf8
        )
        _ = try cmp.openssl([
            "x509", "-req", "-in", "ra.csr", "-CA", "ra-root.pem", "-CAkey", "ra-root.key", "-days", "10", "-extfile",
            "ra.ext", "-outform", "DER", "-out", "ra.der",
        ])
        _ = try cmp.openssl(["x509", "-in", "ra-root.pem", "-outform", "DER", "-out", "ra-root.der"])
        let keyPEM = try String(contentsOfFile: cmp.directory + "/ra.key", encoding: .utf8)
        return RA(
            key: try P256.Signing.PrivateKey(pemRepresentation: keyPEM),
            certificate: try cmp.bytes("ra.der"),
            root: try cmp.bytes("ra-root.der"),
            rootPEM: try String(contentsOfFile: cmp.directory + "/ra-root.pem", encoding: .utf8)
        )
    }

    /// `inner` nested in a message the RA signs.
    static func nested(_ inner: [[UInt8]], by ra: RA) throws -> [UInt8] {
        let certificate = try Certificate(derEncoded: ra.certificate)
        let header = PKIHeader(
            pvno: 2,
            sender: .directoryName(certificate.subject),
            recipient: .directoryName(try DistinguishedName { CommonName("Devices CA") }),
            messageTime: try X509Time.generalizedTime(Int64(Date().timeIntervalSince1970)),
            protectionAlgorithm: CMSAlgorithmIdentifier([1, 2, 840, 10045, 4, 3, 2]),
            transactionID: CMPBadInputTests.randomBytes(16),
            senderNonce: CMPBadInputTests.randomBytes(16)
        )
        let body = PKIBody.nested(try inner.map { try PKIMessage(derEncoded: $0) })
        let signature = try ra.key.signature(for: try PKIMessage.protectedPart(header: header, body: body))
        return try PKIMessage(
            header: header,
            body: body,
            extraCerts: [ra.certificate, ra.root],
            protection: Array(signature.derRepresentation)
        ).der
    }

    func post(_ cmp: CMPServer, _ message: [UInt8]) async throws -> PKIMessage {
        let answer = try await cmp.server.request(
            "POST",
            "/.well-known/cmp/p/line",
            token: nil,
            body: Data(message),
            contentType: "application/pkixcmp"
        )
        #expect(answer.status == 200, "\(answer.text)")
        return try PKIMessage(derEncoded: Array(answer.body))
    }

    @Test func aBatchFromATrustedRAIsAnsweredMessageByMessage() async throws {
        let cmp = try await CMPServer.start()
        let ra = try Self.makeRA(cmp)
        try await cmp.profile("line", ["authentication": ["clientCertificateAnchors": [ra.rootPEM]]])
        let first = try await cmp.oneTimeSecret("line", label: "device 1")
        let second = try await cmp.oneTimeSecret("line", label: "device 2")
        let requests = [
            try await CMPBadInputTests.message(
                try CMPBadInputTests.request("batch-1"),
                kid: first.id,
                secret: first.secret
            ),
            try await CMPBadInputTests.message(
                try CMPBadInputTests.request("batch-2"),
                kid: second.id,
                secret: second.secret
            ),
        ]
        let answer = try await post(cmp, try Self.nested(requests, by: ra))
        guard case .nested(let answers) = answer.body else {
            Issue.record("not a nested answer: \(answer.body.name)")
            return
        }
        #expect(answers.count == 2)
        let signer = try #require(try answer.extraCertificates().first)
        try answer.verifySignature(certificate: signer)  // the CA's RA
        for (inner, secret) in zip(answers, [first, second]) {
            try inner.verifyMAC(secret: Array(secret.secret.utf8))
            guard case .ip(let content) = inner.body else {
                Issue.record("not an ip: \(inner.body.name)")
                continue
            }
            #expect(content.responses.first?.status.status == .accepted && content.responses.first?.certificate != nil)
        }
        #expect(try await cmp.certificates().count == 2)

        // One message with a proof of possession the RA vouches for (raVerified): its own answer, unnested.
        let third = try await cmp.oneTimeSecret("line", label: "device 3")
        guard case .ir(var vouched) = try CMPBadInputTests.request("vouched") else { return }
        vouched[0].proofOfPossession = .raVerified
        let single = try await CMPBadInputTests.message(.ir(vouched), kid: third.id, secret: third.secret)
        let alone = try await post(cmp, try Self.nested([single], by: ra))
        guard case .ip(let content) = alone.body else {
            Issue.record("not an ip: \(alone.body.name)")
            return
        }
        #expect(content.responses.first?.certificate != nil)
        try alone.verifyMAC(secret: Array(third.secret.utf8))
        // The same raVerified request without the RA around it is refused.
        let fourth = try await cmp.oneTimeSecret("line", label: "device 4")
        let bare = try await CMPBadInputTests.message(.ir(vouched), kid: fourth.id, secret: fourth.secret)
        #expect(try await CMPBadInputTests.refusal(cmp, bare) == .badPOP)
    }

    @Test func nestedMessagesFromAnyoneButATrustedRAAreRefused() async throws {
        let cmp = try await CMPServer.start()
        let notAnRA = try Self.makeRA(cmp, usage: "clientAuth")
        try await cmp.profile("line", ["authentication": ["clientCertificateAnchors": [notAnRA.rootPEM]]])
        let secret = try await cmp.oneTimeSecret("line")
        let request = try await CMPBadInputTests.message(
            try CMPBadInputTests.request("x"),
            kid: secret.id,
            secret: secret.secret
        )
        #expect(try await CMPBadInputTests.refusal(cmp, try Self.nested([request], by: notAnRA)) == .notAuthorized)
        #expect(try await cmp.certificates().isEmpty)
    }
}

extension CMPNestedTests {
    /// A message signed by `key` with `certificate` (and its chain) first in extraCerts.
    static func signed(
        _ body: PKIBody,
        key: P256.Signing.PrivateKey,
        chain: [[UInt8]],
        transactionID: [UInt8] = CMPBadInputTests.randomBytes(16),
        recipientNonce: [UInt8]? = nil
    ) throws -> [UInt8] {
        let certificate = try Certificate(derEncoded: chain[0])
        let header = PKIHeader(
            pvno: 2,
            sender: .directoryName(certificate.subject),
            recipient: .directoryName(try DistinguishedName { CommonName("Devices CA") }),
            messageTime: try X509Time.generalizedTime(Int64(Date().timeIntervalSince1970)),
            protectionAlgorithm: CMSAlgorithmIdentifier([1, 2, 840, 10045, 4, 3, 2]),
            transactionID: transactionID,
            senderNonce: CMPBadInputTests.randomBytes(16),
            recipientNonce: recipientNonce
        )
        let signature = try key.signature(for: try PKIMessage.protectedPart(header: header, body: body))
        return try PKIMessage(
            header: header,
            body: body,
            extraCerts: chain,
            protection: Array(signature.derRepresentation)
        )
        .der
    }

    @Test func anRARevokesAndADeviceThatRefusesItsCertificateGetsItRevoked() async throws {
        let cmp = try await CMPServer.start()
        let ra = try Self.makeRA(cmp)
        try await cmp.profile(
            "line",
            ["authentication": ["clientCertificateAnchors": [ra.rootPEM]], "cmp": ["implicitConfirm": false]]
        )
        let secret = try await cmp.oneTimeSecret("line")
        let transaction = CMPBadInputTests.randomBytes(16)
        let ir = try await CMPBadInputTests.message(
            try CMPBadInputTests.request("refused-device"),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction
        )
        let (ip, der) = try await CMPBadInputTests.issue(cmp, ir)
        // The device refuses the certificate in its certConf: it is revoked, and the answer is pkiConf.
        let refusal = try await CMPBadInputTests.message(
            .certConf([
                CertStatus(
                    certHash: Array(SHA256.hash(data: der)),
                    certReqID: 0,
                    statusInfo: PKIStatusInfo(.rejection, ["wrong subject"], failInfo: .badCertTemplate)
                )
            ]),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction,
            recipientNonce: ip.header.senderNonce
        )
        #expect(try await post(cmp, refusal).body == .pkiConf)
        let certificate = try Certificate(derEncoded: der)
        let revoked = try await cmp.server.api.store.read {
            try $0.revocation(issuer: "devices", serial: Array(certificate.serialNumber.bytes))
        }
        #expect(revoked?.reason == 5)  // cessationOfOperation

        // An RA revokes another device's certificate; the device itself may not revoke someone else's.
        let other = try await cmp.oneTimeSecret("line")
        let (_, secondDER) = try await CMPBadInputTests.issue(
            cmp,
            try await CMPBadInputTests.message(
                try CMPBadInputTests.request("second"),
                kid: other.id,
                secret: other.secret
            )
        )
        let target = try Certificate(derEncoded: secondDER)
        let revocation = PKIBody.rr([
            RevocationDetails(
                certificate: CertTemplate(serialNumber: Array(target.serialNumber.bytes), issuer: target.issuer),
                reason: 1
            )
        ])
        let byRA = try await post(cmp, try Self.signed(revocation, key: ra.key, chain: [ra.certificate, ra.root]))
        guard case .rp(let answer) = byRA.body else {
            Issue.record("not an rp: \(byRA.body)")
            return
        }
        #expect(answer.statuses.map(\.status) == [.accepted])
        let reason = try await cmp.server.api.store.read {
            try $0.revocation(issuer: "devices", serial: Array(target.serialNumber.bytes))?.reason
        }
        #expect(reason == 1)
        // MAC protection does not say whose certificate it is.
        let byMAC = try await CMPBadInputTests.message(revocation, kid: other.id, secret: other.secret)
        #expect(try await CMPBadInputTests.refusal(cmp, byMAC) == .notAuthorized)
    }
}
