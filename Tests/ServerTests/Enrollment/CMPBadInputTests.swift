import CMP
import Crypto
import CustosTestSupport
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import Testing
import X509

/// CMP messages no honest client sends, against the real server: each is answered with a protected
/// error message carrying the right failure bits (signed by the RA when the request's own protection did
/// not check out), nothing is issued, and the refusal is audited; what CMP cannot answer gets a 4xx.
@Suite(.serialized, .stopsServers) struct CMPBadInputTests {
    struct Setup {
        let cmp: CMPServer
        let secret: (id: String, secret: String)
    }

    static func setUp() async throws -> Setup {
        let cmp = try await CMPServer.start()
        try await cmp.profile("line", ["cmp": ["implicitConfirm": false]])
        return Setup(cmp: cmp, secret: try await cmp.oneTimeSecret("line"))
    }

    /// A message protected with PasswordBasedMac under `secret` (referenced by `kid`).
    static func message(
        _ body: PKIBody,
        kid: String,
        secret: String,
        transactionID: [UInt8] = randomBytes(16),
        senderNonce: [UInt8]? = randomBytes(16),
        recipientNonce: [UInt8]? = nil,
        pvno: Int = 2,
        time: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> [UInt8] {
        let mac = PasswordBasedMAC(salt: randomBytes(16), oneWayFunction: .sha256, iterations: 1000, mac: .sha256)
        let header = PKIHeader(
            pvno: pvno,
            sender: .directoryName(try DistinguishedName { CommonName("tester") }),
            recipient: .directoryName(try DistinguishedName { CommonName("Devices CA") }),
            messageTime: try X509Time.generalizedTime(time),
            protectionAlgorithm: try mac.algorithmIdentifier,
            senderKID: Array(kid.utf8),
            transactionID: transactionID,
            senderNonce: senderNonce,
            recipientNonce: recipientNonce
        )
        return try await PKIMessage(header: header, body: body) { part in
            mac.authenticationCode(secret: Array(secret.utf8), data: part)
        }.der
    }

    static func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }

    /// POSTs `message` and reads the answer, which must be a CMP error message; returns its failure bits.
    static func refusal(_ cmp: CMPServer, _ message: [UInt8], profile: String = "line", signedByRA: Bool = false)
        async throws -> PKIFailureInfo?
    {
        let answer = try await cmp.server.request(
            "POST",
            "/.well-known/cmp/p/\(profile)",
            token: nil,
            body: Data(message),
            contentType: "application/pkixcmp"
        )
        #expect(answer.status == 200 && answer.headers["content-type"] == "application/pkixcmp", "\(answer.text)")
        let reply = try PKIMessage(derEncoded: Array(answer.body))
        if signedByRA {
            let signer = try #require(try reply.extraCertificates().first)
            #expect(signer.subject.description.contains("RA"))
            try reply.verifySignature(certificate: signer)
        }
        guard case .error(let error) = reply.body else {
            Issue.record("not an error: \(reply.body.name)")
            return nil
        }
        #expect(error.status.status == .rejection)
        return error.status.failInfo
    }

    /// POSTs an ir that must be answered with a certificate: the ip and the certificate (DER).
    static func issue(_ cmp: CMPServer, _ ir: [UInt8], path: String = "/.well-known/cmp/p/line") async throws
        -> (ip: PKIMessage, certificate: [UInt8])
    {
        let answer = try await cmp.server.request(
            "POST",
            path,
            token: nil,
            body: Data(ir),
            contentType: "application/pkixcmp"
        )
        let ip = try PKIMessage(derEncoded: Array(answer.body))
        guard case .ip(let content) = ip.body, let certificate = content.responses.first?.certificate else {
            throw TestFailure("no certificate: \(ip.body.name)")
        }
        return (ip, certificate)
    }

    static func request(_ subject: String) throws -> PKIBody {
        let key = P256.Signing.PrivateKey()
        let template = CertTemplate(
            subject: try DistinguishedName { CommonName(subject) },
            publicKeyInfo: Array(key.publicKey.derRepresentation)
        )
        var request = try CertReqMessage(certReqID: 0, template: template)
        let signature = try key.signature(for: request.certRequestDER)
        request.proofOfPossession = .signature(
            algorithm: CMSAlgorithmIdentifier([1, 2, 840, 10045, 4, 3, 2]),
            signature: Array(signature.derRepresentation),
            hasInput: false
        )
        return .ir([request])
    }

    @Test func wrongProtectionUnknownSendersAndBrokenHeadersAreRefused() async throws {
        let setup = try await Self.setUp()
        let (cmp, secret) = (setup.cmp, setup.secret)
        let before = try await cmp.certificates().count
        let ir = try Self.request("device-x")
        #expect(
            try await Self.refusal(cmp, try await Self.message(ir, kid: secret.id, secret: "wrong"), signedByRA: true)
                == .badMessageCheck
        )
        #expect(
            try await Self.refusal(cmp, try await Self.message(ir, kid: "no-such-secret", secret: secret.secret))
                == .signerNotTrusted
        )
        #expect(
            try await Self.refusal(cmp, try await Self.message(ir, kid: secret.id, secret: secret.secret, pvno: 1))
                == .unsupportedVersion
        )
        #expect(
            try await Self.refusal(
                cmp,
                try await Self.message(ir, kid: secret.id, secret: secret.secret, senderNonce: nil)
            ) == .badSenderNonce
        )
        let anHourAgo = Int64(Date().timeIntervalSince1970) - 3600
        #expect(
            try await Self.refusal(
                cmp,
                try await Self.message(ir, kid: secret.id, secret: secret.secret, time: anHourAgo)
            )
                == .badTime
        )
        // An answer's body sent as a request.
        #expect(
            try await Self.refusal(
                cmp,
                try await Self.message(
                    .pollRep([PollResponse(certReqID: 0, checkAfterSeconds: 1)]),
                    kid: secret.id,
                    secret: secret.secret
                )
            ) == .badRequest
        )
        // A template without a key asks for central key generation.
        var keyless = try CertReqMessage(
            certReqID: 0,
            template: CertTemplate(subject: try DistinguishedName { CommonName("k") })
        )
        keyless.proofOfPossession = nil
        #expect(
            try await Self.refusal(cmp, try await Self.message(.ir([keyless]), kid: secret.id, secret: secret.secret))
                == .badCertTemplate
        )
        // A proof of possession by another key.
        guard case .ir(var requests) = ir else { return }
        let other = P256.Signing.PrivateKey()
        requests[0].proofOfPossession = .signature(
            algorithm: CMSAlgorithmIdentifier([1, 2, 840, 10045, 4, 3, 2]),
            signature: Array(try other.signature(for: requests[0].certRequestDER).derRepresentation),
            hasInput: false
        )
        #expect(
            try await Self.refusal(cmp, try await Self.message(.ir(requests), kid: secret.id, secret: secret.secret))
                == .badPOP
        )

        for garbage in [[UInt8](), [0x30, 0x03, 0x02, 0x01], Array("not DER at all".utf8)] {
            #expect(try await Self.refusal(cmp, garbage, signedByRA: true) == .badDataFormat)
        }
        var truncated = try await Self.message(ir, kid: secret.id, secret: secret.secret)
        truncated.removeLast(20)
        #expect(try await Self.refusal(cmp, truncated, signedByRA: true) == .badDataFormat)

        #expect(try await cmp.certificates().count == before)
        #expect(try await cmp.audit("enrollment.refused").count >= 10)
        // The secret was not spent by any of it.
        let record = try await cmp.server.api.store.read { try $0.enrollmentSecret(id: secret.id) }
        #expect(record?.used == nil)
    }

    @Test func repeatedTransactionsNoncesAndWrongConfirmationsAreRefused() async throws {
        let setup = try await Self.setUp()
        let (cmp, secret) = (setup.cmp, setup.secret)
        let transaction = Self.randomBytes(16)
        let ir = try await Self.message(
            try Self.request("device-y"),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction
        )
        let (ip, certificate) = try await Self.issue(cmp, ir)
        // The same message again: its transaction is in use.
        #expect(try await Self.refusal(cmp, ir) == .transactionIdInUse)
        // certConf with the wrong recipNonce, then with the wrong hash; afterwards the transaction is over.
        let hash = Array(SHA256.hash(data: certificate))
        let wrongNonce = try await Self.message(
            .certConf([CertStatus(certHash: hash, certReqID: 0)]),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction,
            recipientNonce: Self.randomBytes(16)
        )
        #expect(try await Self.refusal(cmp, wrongNonce) == .badRecipientNonce)
        let wrongHash = try await Self.message(
            .certConf([CertStatus(certHash: Array(hash.reversed()), certReqID: 0)]),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction,
            recipientNonce: ip.header.senderNonce
        )
        #expect(try await Self.refusal(cmp, wrongHash) == .badCertId)
        let late = try await Self.message(
            .certConf([CertStatus(certHash: hash, certReqID: 0)]),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction,
            recipientNonce: ip.header.senderNonce
        )
        let closed = try await Self.refusal(cmp, late)
        #expect(closed == .badRequest || closed == .badRecipientNonce)
        // A certConf for a transaction nobody began.
        let stray = try await Self.message(
            .certConf([CertStatus(certHash: hash, certReqID: 0)]),
            kid: secret.id,
            secret: secret.secret,
            recipientNonce: Self.randomBytes(16)
        )
        #expect(try await Self.refusal(cmp, stray) == .badRequest)
    }

    @Test func copiesOfOneMessageRacingEachOtherIssueOnce() async throws {
        // A shared password (not spent by an enrollment): only the transaction stops a second certificate.
        let cmp = try await CMPServer.start()
        try await cmp.profile("line", ["authentication": ["sharedPassword": true, "oneTimePasswords": false]])
        let made = try await cmp.server.request(
            "POST",
            "/v1/enrollment/profiles/line/password",
            token: cmp.server.adminToken,
            json: [String: Any]()
        )
        let id = try #require(made.json["id"] as? String, "\(made.text)")
        let secret = try #require(made.json["secret"] as? String)
        let ir = try await Self.message(try Self.request("raced"), kid: id, secret: secret)
        let answers = try await withThrowingTaskGroup(of: PKIBody.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let answer = try await cmp.server.request(
                        "POST",
                        "/.well-known/cmp/p/line",
                        token: nil,
                        body: Data(ir),
                        contentType: "application/pkixcmp"
                    )
                    return try PKIMessage(derEncoded: Array(answer.body)).body
                }
            }
            return try await group.reduce(into: [PKIBody]()) { $0.append($1) }
        }
        let issued = answers.filter { if case .ip = $0 { true } else { false } }
        #expect(issued.count == 1, "\(answers.map(\.name))")
        #expect(try await cmp.certificates().count == 1)
    }

    @Test func unconfirmedTransactionsAreClosedThenForgotten() async throws {
        let setup = try await Self.setUp()
        let (cmp, secret) = (setup.cmp, setup.secret)
        let transaction = Self.randomBytes(16)
        let ir = try await Self.message(
            try Self.request("device-z"),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction
        )
        // The operation label of RFC 9483 section 6.1 may follow the profile.
        let (ip, certificate) = try await Self.issue(cmp, ir, path: "/.well-known/cmp/p/line/initialization")
        let enrollment = cmp.server.api.enrollment
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        #expect(try await enrollment.sweepCMPTransactions(now: now) == 0)
        // After the confirmation wait (600 s) the transaction is closed: a late certConf is refused.
        #expect(try await enrollment.sweepCMPTransactions(now: now + 601_000_000_000) == 1)
        let late = try await Self.message(
            .certConf([CertStatus(certHash: Array(SHA256.hash(data: certificate)), certReqID: 0)]),
            kid: secret.id,
            secret: secret.secret,
            transactionID: transaction,
            recipientNonce: ip.header.senderNonce
        )
        #expect(try await Self.refusal(cmp, late) == .badRequest)
        // A day after closing it is forgotten; the certificate stays valid.
        #expect(try await enrollment.sweepCMPTransactions(now: now + 2 * 86_400_000_000_000) == 1)
        let record = try await cmp.server.api.store.read {
            try $0.cmpTransaction(profile: "line", transactionID: transaction)
        }
        #expect(record == nil)
        #expect(try await cmp.certificates().count == 1)
    }

    @Test func whatCMPCannotAnswerGetsAnHTTPError() async throws {
        let setup = try await Self.setUp()
        let cmp = setup.cmp
        let get = try await cmp.server.request("GET", "/.well-known/cmp/p/line", token: nil)
        #expect(get.status == 405 && get.headers["allow"] == "POST")
        let text = try await cmp.server.request(
            "POST",
            "/.well-known/cmp/p/line",
            token: nil,
            body: Data([0x30, 0x00]),
            contentType: "text/plain"
        )
        #expect(text.status == 415)
        let unknown = try await cmp.server.request(
            "POST",
            "/.well-known/cmp/p/nothing",
            token: nil,
            body: Data([0x30, 0x00]),
            contentType: "application/pkixcmp"
        )
        #expect(unknown.status == 404 && unknown.text.contains("unknown_profile"))
        let large = try await cmp.server.request(
            "POST",
            "/.well-known/cmp/p/line",
            token: nil,
            body: Data(count: 300_000),
            contentType: "application/pkixcmp"
        )
        #expect(large.status == 413)
    }
}
