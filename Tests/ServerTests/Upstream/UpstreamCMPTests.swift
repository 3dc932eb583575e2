import CustosTestSupport
import Foundation
import MetadataStore
import Testing
import X509

/// Custos as a registration authority toward an upstream CA over CMP: OpenSSL's CMP mock server plays
/// a corporate CA that Custos reaches with requests signed by its RA's HSM key. What it issues is stored
/// and managed like Custos's own certificates; revocations go to it first.
@Suite(.serialized, .stopsServers) struct UpstreamCMPTests {
    @Test func restIssuanceAndRevocationGoThroughTheUpstreamCA() async throws {
        let upstream = try await UpstreamCMPCA.start()
        try await upstream.record()
        try upstream.deviceCertificate("device", subject: "/CN=device-7/O=Upstream Tests", names: "DNS:device-7.test")
        let mock = try upstream.mock(answering: "device.pem")

        let issued = try await upstream.issue("device.csr")
        #expect(issued.status == 201, "\(issued.text)")
        let expected = try Certificate(pemEncoded: try upstream.text("device.pem"))
        let serial = expected.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
        #expect(issued.json["serial"] as? String == serial)
        #expect(try Certificate(pemEncoded: try #require(issued.json["certificate"] as? String)) == expected)
        let chain = try #require(issued.json["chain"] as? [String])
        #expect(
            try chain.map { try Certificate(pemEncoded: $0) } == [Certificate(pemEncoded: upstream.text("up-ca.pem"))]
        )

        // Stored and found like any certificate of Custos, with the upstream named in the audit trail.
        let search = try await upstream.server.request(
            "GET",
            "/v1/certificates?ca=corporate",
            token: upstream.server.adminToken
        )
        let listed = try #require(search.json["certificates"] as? [[String: Any]])
        #expect(listed.map { $0["serial"] as? String } == [serial])
        #expect(try await upstream.certificates().map(\.subject) == [try #require(issued.json["subject"] as? String)])
        let audit = try await upstream.server.api.store.read { try $0.auditEntries(after: nil, limit: 10_000) }
        #expect(
            audit.contains {
                $0.event.action == "certificate.issue" && $0.event.outcome.contains("issued upstream by cmp")
            }
        )

        // Renewal (same key, no CSR) goes upstream as an ir with the old certificate's names; the upstream
        // answers with a second certificate of the key.
        mock.stop()
        try upstream.certify(
            "device.csr",
            out: "device2.pem",
            extensions:
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:device-7.test\n"
        )
        let second = try upstream.mock(answering: "device2.pem")
        let renewed = try await upstream.server.request(
            "POST",
            "/v1/cas/corporate/certificates/\(serial)/renew",
            token: upstream.server.adminToken,
            json: [String: Any]()
        )
        #expect(renewed.status == 201, "\(renewed.text)")
        #expect((renewed.json["metadata"] as? [String: String])?["renewed-from"] == serial, "\(renewed.text)")
        #expect(try await upstream.certificates().count == 2)
        second.stop()
        let again = try upstream.mock(answering: "device.pem")
        defer { again.stop() }

        // Revocation is the upstream's first (the mock checks issuer and serial against its certificate).
        let revoked = try await upstream.server.request(
            "POST",
            "/v1/cas/corporate/certificates/\(serial)/revoke",
            token: upstream.server.adminToken,
            json: ["reason": "keyCompromise"]
        )
        #expect(revoked.status == 200, "\(revoked.text)")
        #expect(revoked.json["status"] as? String == "revoked")
        // Custos signs no CRL for a CA whose key is elsewhere.
        let crl = try await upstream.server.request("GET", "/crl/corporate.crl", token: nil)
        #expect(crl.status == 409, "\(crl.text)")
    }

    @Test func openSSLEnrollsOverCMPThroughAProfileOnTheUpstreamCA() async throws {
        let upstream = try await UpstreamCMPCA.start()
        try await upstream.record()
        try upstream.deviceCertificate("device", subject: "/CN=device-8", names: "DNS:device-8.test")
        let mock = try upstream.mock(answering: "device.pem")
        defer { mock.stop() }
        let profile = try await upstream.server.request(
            "POST",
            "/v1/enrollment/profiles",
            token: upstream.server.adminToken,
            json: ["id": "line", "ca": "corporate", "category": "device", "protocols": ["cmp"]]
        )
        try #require(profile.status == 201, "\(profile.text)")
        let otp = try await upstream.server.request(
            "POST",
            "/v1/enrollment/profiles/line/one-time-passwords",
            token: upstream.server.adminToken,
            json: ["label": "device 8"]
        )
        try #require(otp.status == 201, "\(otp.text)")
        // The device's CRMF request reaches the upstream as an ir from the RA (raVerified: Custos checked
        // the device's proof of possession); the device gets the upstream's certificate back.
        let ir = try await runClient(
            "openssl",
            [
                "cmp", "-server", "http://127.0.0.1:\(upstream.server.port)/.well-known/cmp/p/line",
                "-recipient", "/CN=Corporate CA/O=Upstream Tests", "-msg_timeout", "30", "-cmd", "ir",
                "-ref", try #require(otp.json["id"] as? String), "-secret", "pass:" + (otp.json["secret"] as! String),
                "-newkey", "device.key", "-subject", "/CN=device-8", "-sans", "device-8.test", "-certout", "got.pem",
            ],
            currentDirectory: upstream.directory
        )
        #expect(ir.status == 0, "\(ir.stdout)\(ir.stderr)")
        #expect(
            try Certificate(pemEncoded: upstream.text("got.pem"))
                == Certificate(pemEncoded: upstream.text("device.pem"))
        )
        let stored = try await upstream.certificates()
        #expect(stored.count == 1)
        #expect(stored.first?.metadata["enrollment.protocol"] == "cmp")
        let verify = try runCommand(
            "openssl",
            ["verify", "-CAfile", "up-ca.pem", "got.pem"],
            currentDirectory: upstream.directory
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // A request signed with that certificate is answered signed by the RA's EC key, which OpenSSL
        // trusts through the upstream CA (the upstream now answers with a second certificate of the key).
        mock.stop()
        try upstream.certify(
            "device.csr",
            out: "device2.pem",
            extensions: "keyUsage=critical,digitalSignature\nsubjectAltName=DNS:device-8.test\n"
        )
        let second = try upstream.mock(answering: "device2.pem")
        defer { second.stop() }
        let cr = try await runClient(
            "openssl",
            [
                "cmp", "-server", "http://127.0.0.1:\(upstream.server.port)/.well-known/cmp/p/line",
                "-recipient", "/CN=Corporate CA/O=Upstream Tests", "-msg_timeout", "30", "-cmd", "cr",
                "-cert", "got.pem", "-key", "device.key", "-newkey", "device.key", "-subject", "/CN=device-8",
                "-sans", "device-8.test", "-trusted", "up-ca.pem", "-certout", "again.pem",
            ],
            currentDirectory: upstream.directory
        )
        #expect(cr.status == 0, "\(cr.stdout)\(cr.stderr)")
        #expect(try await upstream.certificates().count == 2)

        // SCEP clients encrypt to the RA, whose key here only signs: not offered on an upstream CA.
        let scep = try await upstream.server.request(
            "POST",
            "/v1/enrollment/profiles",
            token: upstream.server.adminToken,
            json: ["id": "scep", "ca": "corporate", "category": "device", "protocols": ["scep"]]
        )
        #expect(scep.status == 400 && scep.text.contains("SCEP needs an RA key that decrypts"), "\(scep.text)")
    }

    @Test func anUpstreamThatIsDownSilentOrGarbledFailsInBoundedTimeAndStoresNothing() async throws {
        let upstream = try await UpstreamCMPCA.start()
        try upstream.deviceCertificate("device", subject: "/CN=device-9", names: "DNS:device-9.test")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Enrollment/Scripts/misbehaving_upstream.py").path

        // Nobody listens: every attempt fails at once.
        try await upstream.record("down", ["attempts": 3, "timeoutSeconds": 10])
        let down = try await upstream.issue("device.csr", ca: "down")
        #expect(down.status == 502, "\(down.text)")
        #expect(down.errorCode == "upstream_unavailable")
        #expect(down.text.contains("3 attempt(s)"), "\(down.text)")

        // A server that answers garbage, and one that never answers: refused within the timeout.
        let garbledPort = try RawConnection.freePort()
        let garbled = try BackgroundProcess(
            "/usr/bin/python3",
            [script, "garbage", "\(garbledPort)"],
            directory: upstream.directory,
            port: garbledPort
        )
        defer { garbled.stop() }
        try await upstream.record("garbled", url: "http://127.0.0.1:\(garbledPort)/pkix/", ["attempts": 2])
        let garbage = try await upstream.issue("device.csr", ca: "garbled")
        #expect(garbage.status == 502, "\(garbage.text)")
        #expect(garbage.text.contains("not a CMP message"), "\(garbage.text)")

        let silentPort = try RawConnection.freePort()
        let silent = try BackgroundProcess(
            "/usr/bin/python3",
            [script, "silent", "\(silentPort)"],
            directory: upstream.directory,
            port: silentPort
        )
        defer { silent.stop() }
        try await upstream.record("silent", url: "http://127.0.0.1:\(silentPort)/pkix/", ["timeoutSeconds": 8])
        let started = Date()
        let slow = try await upstream.issue("device.csr", ca: "silent")
        #expect(slow.status == 502, "\(slow.text)")
        #expect(slow.text.contains("did not answer within"), "\(slow.text)")
        #expect(Date().timeIntervalSince(started) < 25)

        for ca in ["down", "garbled", "silent"] { #expect(try await upstream.certificates(ca).isEmpty) }
        // Operators see each upstream's failures in the metrics.
        let metrics = try await upstream.server.request("GET", "/metrics", token: upstream.server.adminToken).text
        for ca in ["down", "garbled", "silent"] {
            let line = metrics.split(separator: "\n").first { line in
                line.hasPrefix("custos_upstream_requests_total{") && line.contains("ca=\"\(ca)\"")
                    && line.contains("outcome=\"unavailable\"") && line.contains("operation=\"enroll\"")
            }
            #expect(line?.hasSuffix(" 1") == true, "\(ca): \(line ?? "no line")")
        }
    }

    @Test func whatTheUpstreamRefusesOrMisissuesIsNotStored() async throws {
        let upstream = try await UpstreamCMPCA.start()
        try await upstream.record()
        try upstream.deviceCertificate("device", subject: "/CN=device-10", names: "DNS:device-10.test")
        try upstream.deviceCertificate("other", subject: "/CN=device-10", names: "DNS:device-10.test")

        // The upstream refuses (failInfo badRequest): its reason reaches the caller.
        var mock = try upstream.mock(answering: "device.pem", ["-pkistatus", "2", "-failure", "2"])
        let refused = try await upstream.issue("device.csr")
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.errorCode == "upstream_refused")
        #expect(refused.text.contains("badRequest"), "\(refused.text)")
        mock.stop()

        // It answers with a certificate Custos holds already.
        mock = try upstream.mock(answering: "device.pem")
        #expect(try await upstream.issue("device.csr").status == 201)
        let repeated = try await upstream.issue("device.csr")
        #expect(repeated.status == 422 && repeated.text.contains("holds already"), "\(repeated.text)")
        #expect(try await upstream.certificates().count == 1)
        mock.stop()

        // What it issues breaks the CA's policy (20 days where 10 are allowed): rejected in the certConf.
        var policy = try await upstream.server.request(
            "GET",
            "/v1/cas/corporate/policies/device",
            token: upstream.server.adminToken
        ).json
        let previous = policy
        (policy["maxValidityDays"], policy["validityDays"]) = (10, 10)
        let strict = try await upstream.server.request(
            "PUT",
            "/v1/cas/corporate/policies/device",
            token: upstream.server.adminToken,
            json: policy
        )
        try #require(strict.status == 200, "\(strict.text)")
        mock = try upstream.mock(answering: "device.pem")
        let tooLong = try await upstream.issue("device.csr")
        #expect(tooLong.status == 422 && tooLong.text.contains("rejected in the certConf"), "\(tooLong.text)")
        mock.stop()
        _ = try await upstream.server.request(
            "PUT",
            "/v1/cas/corporate/policies/device",
            token: upstream.server.adminToken,
            json: previous
        )

        // It certifies another key than the one asked for.
        mock = try upstream.mock(answering: "other.pem")
        let wrongKey = try await upstream.issue("device.csr")
        #expect(wrongKey.status == 422, "\(wrongKey.text)")
        #expect(wrongKey.text.contains("another key"), "\(wrongKey.text)")
        mock.stop()

        // Its answers are signed by a certificate that does not chain to the response anchors.
        _ = try upstream.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "rogue-ca.key",
            "-out", "rogue-ca.pem", "-subj", "/CN=Rogue CA", "-days", "5",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ])
        try upstream.newKey("rogue")
        _ = try upstream.openssl([
            "req", "-new", "-key", "rogue.key", "-subj", "/CN=Corporate CMP", "-out", "rogue.csr",
        ])
        try upstream.certify(
            "rogue.csr",
            out: "rogue.pem",
            extensions: "keyUsage=critical,digitalSignature",
            ca: "rogue-ca"
        )
        mock = try BackgroundProcess(
            "openssl",
            [
                "cmp", "-port", "\(upstream.port)", "-srv_cert", "rogue.pem", "-srv_key", "rogue.key",
                "-srv_trusted", "up-ca.pem", "-rsp_cert", "device.pem", "-accept_raverified",
            ],
            directory: upstream.directory,
            port: upstream.port
        )
        let rogue = try await upstream.issue("device.csr")
        #expect(rogue.status == 422, "\(rogue.text)")
        #expect(rogue.text.contains("does not chain"), "\(rogue.text)")
        mock.stop()

        #expect(try await upstream.certificates().count == 1)
    }
}
