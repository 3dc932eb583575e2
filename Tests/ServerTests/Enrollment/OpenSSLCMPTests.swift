import CMP
import CustosTestSupport
import Foundation
import MetadataStore
import Testing
import X509

/// OpenSSL 3.0's CMP client against the real server: a first enrollment with a one-time secret (MAC,
/// PasswordBasedMac), key update, certification and revocation signed with the issued certificate, a
/// PKCS#10 request, and general messages, each answer checked by OpenSSL (the MAC, or the RA's signature
/// chained to the CA) and each certificate by `openssl verify` and pkilint.
@Suite(.serialized, .stopsServers) struct OpenSSLCMPTests {
    @Test func enrollUpdateCertifyAndRevoke() async throws {
        let cmp = try await CMPServer.start()
        try await cmp.profile("line")
        let first = try await cmp.oneTimeSecret("line", label: "device 1")
        try cmp.newKey("device")
        let ir = try await cmp.cmp(
            "line",
            [
                "-cmd", "ir", "-ref", first.id, "-secret", "pass:" + first.secret, "-newkey", "device.key",
                "-subject", "/CN=device-1", "-certout", "device.pem", "-cacertsout", "capubs.pem",
            ]
        )
        #expect(ir.status == 0, "\(ir.stderr)")
        #expect(try cmp.verify("device"))
        #expect(try cmp.lint("device") == [])
        let root = try String(contentsOfFile: cmp.directory + "/ca.pem", encoding: .utf8)
        let caPubs = try String(contentsOfFile: cmp.directory + "/capubs.pem", encoding: .utf8)
        #expect(try Certificate(pemEncoded: caPubs) == Certificate(pemEncoded: root))

        // The one-time secret is spent.
        try cmp.newKey("other")
        let again = try await cmp.cmp(
            "line",
            [
                "-cmd", "ir", "-ref", first.id, "-secret", "pass:" + first.secret, "-newkey", "other.key",
                "-subject", "/CN=device-1", "-certout", "other.pem", "-unprotected_errors",
            ]
        )
        #expect(
            again.status != 0 && (again.stdout + again.stderr).contains("notAuthorized"),
            "\(again.stdout)\(again.stderr)"
        )

        // Key update, signed with the certificate; the answer is signed by the RA, trusted through the CA.
        try cmp.newKey("device2")
        let kur = try await cmp.cmp(
            "line",
            [
                "-cmd", "kur", "-cert", "device.pem", "-key", "device.key", "-newkey", "device2.key",
                "-trusted", "ca.pem", "-certout", "device2.pem",
            ]
        )
        #expect(kur.status == 0, "\(kur.stderr)")
        #expect(try cmp.verify("device2"))
        let updated = try Certificate(
            pemEncoded: String(contentsOfFile: cmp.directory + "/device2.pem", encoding: .utf8)
        )
        #expect(updated.subject.description.contains("device-1"))
        let renewed = try await cmp.certificates().first { $0.serial == Array(updated.serialNumber.bytes) }
        #expect(renewed?.metadata["renewed-from"] != nil, "\(String(describing: renewed?.metadata))")

        // cr with the new certificate, then revocation of the first by its holder (reason superseded).
        try cmp.newKey("device3")
        let cr = try await cmp.cmp(
            "line",
            [
                "-cmd", "cr", "-cert", "device2.pem", "-key", "device2.key", "-newkey", "device3.key",
                "-trusted", "ca.pem", "-certout", "device3.pem",
            ]
        )
        #expect(cr.status == 0, "\(cr.stderr)")
        let rr = try await cmp.cmp(
            "line",
            [
                "-cmd", "rr", "-cert", "device.pem", "-key", "device.key", "-oldcert", "device.pem", "-revreason", "4",
                "-trusted", "ca.pem",
            ]
        )
        #expect(rr.status == 0, "\(rr.stderr)")
        let firstSerial = try Certificate(
            pemEncoded: String(contentsOfFile: cmp.directory + "/device.pem", encoding: .utf8)
        )
        .serialNumber
        let revocation = try await cmp.server.api.store.read {
            try $0.revocation(issuer: "devices", serial: Array(firstSerial.bytes))
        }
        #expect(revocation?.reason == 4)
        let twice = try await cmp.cmp(
            "line",
            [
                "-cmd", "rr", "-cert", "device2.pem", "-key", "device2.key", "-oldcert", "device.pem", "-trusted",
                "ca.pem",
            ]
        )
        #expect(
            twice.status != 0 && (twice.stdout + twice.stderr).contains("notAuthorized"),
            "\(twice.stdout)\(twice.stderr)"
        )
    }
}

extension OpenSSLCMPTests {
    @Test func pkcs10GeneralMessagesAndImplicitConfirmation() async throws {
        let cmp = try await CMPServer.start()
        try await cmp.profile("line")
        let secret = try await cmp.oneTimeSecret("line")
        try cmp.newKey("p10")
        _ = try cmp.openssl(["req", "-new", "-key", "p10.key", "-subj", "/CN=p10-device", "-out", "p10.csr"])
        let p10cr = try await cmp.cmp(
            "line",
            [
                "-cmd", "p10cr", "-csr", "p10.csr", "-ref", secret.id, "-secret", "pass:" + secret.secret,
                "-implicit_confirm", "-certout", "p10.pem", "-reqout", "p10-1.der,p10-2.der",
            ]
        )
        #expect(p10cr.status == 0, "\(p10cr.stdout)\(p10cr.stderr)")
        #expect(try cmp.verify("p10"))
        // Implicit confirmation was granted: the client sent no certConf.
        #expect(FileManager.default.fileExists(atPath: cmp.directory + "/p10-1.der"))
        #expect(!FileManager.default.fileExists(atPath: cmp.directory + "/p10-2.der"))

        let signed = ["-cert", "p10.pem", "-key", "p10.key", "-trusted", "ca.pem"]
        let caCerts = try await cmp.cmp(
            "line",
            ["-cmd", "genm", "-infotype", "caCerts", "-rspout", "ca-certs.der"] + signed
        )
        #expect(caCerts.status == 0 && caCerts.stdout.contains("id-it-caCerts"), "\(caCerts.stdout)\(caCerts.stderr)")
        guard case .genp(let items) = try PKIMessage(derEncoded: try cmp.bytes("ca-certs.der")).body,
            let value = items.first?.value
        else {
            Issue.record("no caCerts answer")
            return
        }
        let root = try Certificate(pemEncoded: String(contentsOfFile: cmp.directory + "/ca.pem", encoding: .utf8))
        let rootDER = try root.serializeAsPEM().derBytes
        #expect(value.count > rootDER.count && Array(value.suffix(rootDER.count)) == rootDER)

        let template = try await cmp.cmp(
            "line",
            ["-cmd", "genm", "-infotype", "certReqTemplate", "-rspout", "template.der"] + signed
        )
        #expect(template.status == 0 && template.stdout.contains("id-it-certReqTemplate"), "\(template.stdout)")
        let rootUpdate = try await cmp.cmp(
            "line",
            ["-cmd", "genm", "-infotype", "rootCaKeyUpdate", "-rspout", "root.der"] + signed
        )
        #expect(rootUpdate.status == 0, "\(rootUpdate.stdout)\(rootUpdate.stderr)")
        guard case .genp(let update) = try PKIMessage(derEncoded: try cmp.bytes("root.der")).body else {
            Issue.record("no root update answer")
            return
        }
        #expect(update == [InfoTypeAndValue([1, 3, 6, 1, 5, 5, 7, 4, 18])])  // no update: no value

        let unknown = try await cmp.cmp("line", ["-cmd", "genm", "-infotype", "signKeyPairTypes"] + signed)
        #expect(unknown.status != 0 && (unknown.stdout + unknown.stderr).contains("badRequest"), "\(unknown.stdout)")
    }

    @Test func aRequestWaitsForAnOfficerWhileTheClientPolls() async throws {
        let cmp = try await CMPServer.start()
        try await cmp.profile("guarded", ["approval": "manual", "cmp": ["checkAfterSeconds": 1]])
        let secret = try await cmp.oneTimeSecret("guarded")
        try cmp.newKey("waiting")
        async let enrolled = cmp.cmp(
            "guarded",
            [
                "-cmd", "ir", "-ref", secret.id, "-secret", "pass:" + secret.secret, "-newkey", "waiting.key",
                "-subject", "/CN=waiting-device", "-certout", "waiting.pem", "-total_timeout", "120",
            ]
        )
        var held: [String: Any]?
        for _ in 0..<100 where held == nil {
            try await Task.sleep(for: .milliseconds(200))
            let pending = try await cmp.server.request(
                "GET",
                "/v1/enrollment/requests?state=pending",
                token: cmp.server.adminToken
            )
            held = (pending.json["requests"] as? [[String: Any]])?.first
        }
        let id = try #require(held?["id"] as? String)
        // The held CRMF request's subject (CMP stores no CSR).
        #expect(held?["subject"] as? String == "CN=waiting-device", "\(held ?? [:])")
        try await Task.sleep(for: .seconds(2))  // the client polls at least once meanwhile
        let approved = try await cmp.server.request(
            "POST",
            "/v1/enrollment/requests/\(id)/approve",
            token: cmp.server.adminToken,
            json: [String: Any]()
        )
        #expect(approved.status == 200, "\(approved.text)")
        let result = try await enrolled
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("received POLLREP") || result.stderr.contains("received POLLREP"))
        #expect(try cmp.verify("waiting"))
    }
}
