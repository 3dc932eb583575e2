import CustosTestSupport
import CustosX509
import Foundation
import Testing
import X509

/// SCEP messages pki never sends, built by `SCEPTestClient` against the real server: a first request
/// over GET answered with a certificate OpenSSL opens and verifies, GetCert and GetCRL, and every kind
/// of bad input refused as RFC 8894 says (a CertRep signed by the RA with FAILURE and the failInfo,
/// or a 4xx text answer when there is nothing to answer), each with an audit entry and nothing issued.
@Suite(.serialized, .stopsServers) struct SCEPTests {
    struct Setup {
        let scep: SCEPServer
        let ra: [UInt8]
        let client: SCEPTestClient
    }

    static func setUp(_ fields: [String: Any] = [:]) async throws -> Setup {
        let scep = try await SCEPServer.start()
        try await scep.profile("routers", fields)
        let caCert = try await scep.server.request("GET", "/scep/routers?operation=GetCACert", token: nil)
        #expect(caCert.status == 200 && caCert.headers["content-type"] == "application/x-x509-ca-ra-cert")
        let bundle = try CMSSignedDataMessage(derEncoded: Array(caCert.body))
        let certificates = try bundle.certificates.map { try Certificate(derEncoded: $0) }
        #expect(certificates.count == 2)
        let ra = try #require(
            bundle.certificates.first { der in
                (try? Certificate(derEncoded: der))?.subject.description.contains("SCEP RA") == true
            }
        )
        let ca = try #require(bundle.certificates.first { $0 != ra })
        try Data(ra).write(to: URL(fileURLWithPath: "\(scep.directory)/ra.der"))
        try Data(ca).write(to: URL(fileURLWithPath: "\(scep.directory)/ca.der"))
        try SCEPTestClient.openssl(["x509", "-inform", "DER", "-in", "ra.der", "-out", "ra.pem"], in: scep.directory)
        try SCEPTestClient.openssl(["x509", "-inform", "DER", "-in", "ca.der", "-out", "ca.pem"], in: scep.directory)
        return Setup(scep: scep, ra: ra, client: try SCEPTestClient(directory: scep.directory, name: "router"))
    }

    func post(_ scep: SCEPServer, _ message: [UInt8], profile: String = "routers") async throws -> HTTPResult {
        try await scep.server.request(
            "POST",
            "/scep/\(profile)?operation=PKIOperation",
            token: nil,
            body: Data(message),
            contentType: "application/x-pki-message"
        )
    }

    @Test func aRequestOverGETIsIssuedAndGetCertAndGetCRLAnswer() async throws {
        let setup = try await Self.setUp(["authentication": ["sharedPassword": true, "oneTimePasswords": false]])
        let (scep, client) = (setup.scep, setup.client)
        let rotated = try await scep.server.request(
            "POST",
            "/v1/enrollment/profiles/routers/password",
            token: scep.server.adminToken,
            json: [String: Any]()
        )
        let password = try #require(rotated.json["secret"] as? String, "\(rotated.text)")
        let caps = try await scep.server.request("GET", "/scep/routers?operation=GetCACaps", token: nil)
        #expect(caps.text.split(separator: "\n").contains("SCEPStandard") && caps.text.contains("POSTPKIOperation"))

        let nonce = [UInt8](repeating: 7, count: 16)
        let message = try client.message(
            type: "19",
            content: try client.csr(["CN = router-9", "O = Custos Tests"], password: password),
            transaction: "t-get-1",
            nonce: nonce,
            recipient: "ra.pem",
            cipher: "-aes256"
        )
        // GET: base64 in `message`, '+' escaped and lines broken as strongSwan does.
        let base64 = Data(message).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        let escaped = base64.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "=", with: "%3D")
        let answer = try await scep.server.request(
            "GET",
            "/scep/routers?operation=PKIOperation&message=\(escaped)",
            token: nil
        )
        #expect(answer.status == 200 && answer.headers["content-type"] == "application/x-pki-message", "\(answer.text)")
        let reply = try client.read(Array(answer.body), ra: setup.ra)
        #expect(reply.status == "0" && reply.failInfo == nil && reply.signatureVerifies)
        #expect(reply.transaction == "t-get-1" && reply.recipientNonce == nonce)
        let issued = try #require(reply.certificates.first)
        #expect(reply.certificates.count == 1)
        try client.write(issued, "issued.der")
        try SCEPTestClient.openssl(
            ["x509", "-inform", "DER", "-in", "issued.der", "-out", "issued.pem"],
            in: scep.directory
        )
        #expect(try scep.verify("issued"))
        #expect(
            try Certificate(derEncoded: issued).publicKey == (try Certificate(derEncoded: client.certificate).publicKey)
        )
        #expect(try await scep.audit("certificate.enroll").count == 1)

        // GetCert: the issued certificate again, by issuer and serial; an unknown serial is badCertId.
        let certificate = try Certificate(derEncoded: issued)
        let name = try IssuerAndSerialNumber(certificate: issued)
        let getCert = try client.message(
            type: "21",
            content: name.der,
            transaction: "t-get-2",
            nonce: nonce,
            recipient: "ra.pem"
        )
        let got = try client.read(Array(try await post(scep, getCert).body), ra: setup.ra)
        #expect(got.status == "0" && got.certificates == [issued])
        let unknown = IssuerAndSerialNumber(issuer: name.issuer, serialNumber: [0x01, 0x02, 0x03])
        let missing = try client.read(
            Array(
                try await post(
                    scep,
                    try client.message(
                        type: "21",
                        content: unknown.der,
                        transaction: "t-get-3",
                        nonce: nonce,
                        recipient: "ra.pem"
                    )
                ).body
            ),
            ra: setup.ra
        )
        #expect(missing.status == "2" && missing.failInfo == "4")

        // GetCRL: the CA's current CRL, which OpenSSL reads and checks with the CA's key.
        let getCRL = try client.message(
            type: "22",
            content: name.der,
            transaction: "t-get-4",
            nonce: nonce,
            recipient: "ra.pem"
        )
        let crl = try client.read(Array(try await post(scep, getCRL).body), ra: setup.ra)
        #expect(crl.status == "0" && crl.crls.count == 1 && crl.certificates.isEmpty)
        try client.write(try #require(crl.crls.first), "crl.der")
        let checked = try runCommand(
            "openssl",
            ["crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout"],
            currentDirectory: scep.directory
        )
        #expect(checked.status == 0 && checked.stderr.contains("verify OK"), "\(checked.stderr)")
        let getCerts = try await scep.audit("scep.GetCert")
        let getCRLs = try await scep.audit("scep.GetCRL")
        #expect(getCerts.count == 2 && getCRLs.count == 1)
        _ = certificate
    }

    @Test func refusalsAreSignedCertRepsWithTheirFailInfo() async throws {
        let setup = try await Self.setUp()
        let (scep, client) = (setup.scep, setup.client)
        let password = try await scep.oneTimePassword("routers", label: "router-9")
        let csr = try client.csr(["CN = router-9"], password: password)
        let other = try SCEPTestClient(directory: scep.directory, name: "other")
        let nonce = (0..<16).map { UInt8($0) }
        let cases: [(String, [UInt8], String, String)] = [
            (
                "a wrong password",
                try client.message(
                    type: "19",
                    content: try client.csr(["CN = router-9"], password: "wrong-password"),
                    transaction: "t1",
                    nonce: nonce,
                    recipient: "ra.pem"
                ),
                "2", "the password is not one profile routers accepts"
            ),
            (
                "a tampered signature",
                try client.message(
                    type: "19",
                    content: csr,
                    transaction: "t2",
                    nonce: nonce,
                    recipient: "ra.pem",
                    tamper: true
                ),
                "1", "the signature does not verify"
            ),
            (
                "an envelope for someone else",
                try client.message(
                    type: "19",
                    content: csr,
                    transaction: "t3",
                    nonce: nonce,
                    recipient: "other-self.pem"
                ),
                "1", "does not decrypt with the RA key"
            ),
            (
                "an unknown message type",
                try client.message(type: "99", content: csr, transaction: "t4", nonce: nonce, recipient: "ra.pem"),
                "2", "message type 99"
            ),
            (
                "a request for another key",
                try other.message(type: "19", content: csr, transaction: "t5", nonce: nonce, recipient: "ra.pem"),
                "1", "signed with a key other than the request's"
            ),
            (
                "a subject the policy refuses",
                try client.message(
                    type: "19",
                    content: try client.csr(["O = No Name"], password: password),
                    transaction: "t6",
                    nonce: nonce,
                    recipient: "ra.pem"
                ),
                "2", "requiredSubjectAttributes"
            ),
            (
                "a poll for no request",
                try client.message(
                    type: "20",
                    content: try Self.issuerAndSubject(),
                    transaction: "t7",
                    nonce: nonce,
                    recipient: "ra.pem"
                ),
                "4", "holds no request t7"
            ),
            (
                "a RenewalReq signed by a self-signed certificate",
                try client.message(type: "17", content: csr, transaction: "t8", nonce: nonce, recipient: "ra.pem"),
                "2", "signed with the certificate being renewed"
            ),
        ]
        for (what, message, failInfo, audited) in cases {
            let answer = try await post(scep, message)
            #expect(answer.status == 200, "\(what): \(answer.text)")
            let reply = try client.read(Array(answer.body), ra: setup.ra)
            #expect(reply.status == "2" && reply.failInfo == failInfo, "\(what): \(reply)")
            #expect(reply.signatureVerifies && reply.recipientNonce == nonce && reply.certificates.isEmpty, "\(what)")
            let entries = try await scep.server.api.store.read { try $0.auditEntries(after: nil, limit: 10_000) }
            #expect(entries.contains { $0.event.outcome.contains(audited) }, "\(what): \(entries.map(\.event.outcome))")
        }
        #expect(try await scep.audit("certificate.enroll").isEmpty)
        // The one-time password survived every refusal and still works once.
        let good = try client.read(
            Array(
                try await post(
                    scep,
                    try client.message(type: "19", content: csr, transaction: "t9", nonce: nonce, recipient: "ra.pem")
                ).body
            ),
            ra: setup.ra
        )
        #expect(good.status == "0" && good.certificates.count == 1)
    }

    @Test func whatCannotBeAnsweredGetsATextAnswer() async throws {
        let setup = try await Self.setUp()
        let (scep, client) = (setup.scep, setup.client)
        try await scep.profile("est-only", ["protocols": ["est"]])
        let valid = try client.message(
            type: "19",
            content: [0x30, 0x00],
            transaction: "t1",
            nonce: [UInt8](repeating: 1, count: 16),
            recipient: "ra.pem"
        )
        let cases: [(String, HTTPResult, Int, String)] = [
            ("garbage", try await post(scep, Array("not a SCEP message".utf8)), 400, "invalid_input"),
            ("a truncated message", try await post(scep, Array(valid.prefix(valid.count / 2))), 400, "invalid_input"),
            ("an empty body", try await post(scep, []), 400, "invalid_input"),
            (
                "a GET without a message",
                try await scep.server.request("GET", "/scep/routers?operation=PKIOperation", token: nil), 400, "message"
            ),
            (
                "an unknown operation",
                try await scep.server.request("GET", "/scep/routers?operation=Nope", token: nil), 400, "Nope"
            ),
            ("no operation", try await scep.server.request("GET", "/scep/routers", token: nil), 400, "GetCACaps"),
            ("an unknown profile", try await post(scep, valid, profile: "nosuch"), 404, "unknown_profile"),
            (
                "a profile without SCEP",
                try await scep.server.request("GET", "/scep/est-only?operation=GetCACert", token: nil), 404,
                "does not offer SCEP"
            ),
        ]
        for (what, answer, status, text) in cases {
            #expect(answer.status == status && answer.text.contains(text), "\(what): \(answer.status) \(answer.text)")
            #expect(answer.headers["content-type"]?.hasPrefix("text/plain") == true, "\(what)")
        }
        let refusals = try await scep.audit("enrollment.refused")
        #expect(
            refusals.filter { $0.event.outcome.contains("unreadable PKIOperation") }.count >= 3,
            "\(refusals.map(\.event.outcome))"
        )
        #expect(try await scep.audit("certificate.enroll").isEmpty)
    }

    /// An IssuerAndSubject (what a CertPoll carries) for names that match nothing.
    static func issuerAndSubject() throws -> [UInt8] {
        let issuer = try derBytes(try DistinguishedName { CommonName("Devices CA") })
        let subject = try derBytes(try DistinguishedName { CommonName("router-9") })
        return [0x30, UInt8(issuer.count + subject.count)] + issuer + subject
    }
}
