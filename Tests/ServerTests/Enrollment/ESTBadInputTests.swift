import CustosTestSupport
import Foundation
import Testing

/// What EST clients get for bad requests and foreign credentials: a 4xx with a text body that names
/// the problem, an audit entry, and nothing issued. And first enrollment with a manufacturer's
/// certificate (IDevID) chained to a profile's anchor, made here by Python's `cryptography`.
@Suite(.serialized, .stopsServers) struct ESTBadInputTests {
    /// Writes a manufacturer root, a valid and an expired device certificate under it, and a device
    /// certificate of another manufacturer (PEM, keys unencrypted) into `directory`.
    static func makeManufacturer(in directory: String) async throws {
        let script = """
            import datetime
            from cryptography import x509
            from cryptography.x509.oid import NameOID
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            now = datetime.datetime.now(datetime.timezone.utc)
            def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
            def save(path, obj):
                with open(path, "wb") as f: f.write(obj)
            def key(path):
                k = ec.generate_private_key(ec.SECP256R1())
                save(path, k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
                return k
            def root(cn, path):
                k = key(path + ".key")
                c = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn)).public_key(k.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                     .sign(k, hashes.SHA256()))
                save(path + ".pem", c.public_bytes(serialization.Encoding.PEM))
                return k, c
            def device(cn, path, ca_key, ca, start, end):
                k = key(path + ".key")
                c = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca.subject).public_key(k.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
                     .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                     .sign(ca_key, hashes.SHA256()))
                save(path + ".pem", c.public_bytes(serialization.Encoding.PEM))
            mk, m = root("Acme Manufacturing IDevID CA", "maker")
            device("meter-100", "idevid", mk, m, now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))
            device("meter-101", "expired", mk, m, now - datetime.timedelta(days=20), now - datetime.timedelta(days=10))
            ok, o = root("Other Manufacturer", "other")
            device("meter-102", "foreign", ok, o, now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
            """
        let result = try await runClient("python3", ["-c", script], currentDirectory: directory)
        guard result.status == 0 else { throw TestFailure("python: \(result.stderr)") }
    }

    @Test func manufacturerCertificatesEnrollAndForeignOrExpiredOnesDoNot() async throws {
        let est = try await ESTServer.start()
        try await Self.makeManufacturer(in: est.directory)
        let anchor = try String(contentsOfFile: "\(est.directory)/maker.pem", encoding: .utf8)
        try await est.profile(
            "meters",
            ["authentication": ["oneTimePasswords": false, "clientCertificateAnchors": [anchor]]]
        )
        try est.csr("meter", subject: "/CN=meter-100")
        let enrolled = try await est.enroll("meters", "meter", ["--cert", "idevid.pem", "--key", "idevid.key"])
        #expect(enrolled.status == 200, "\(enrolled.text)")
        let issued = try await est.audit("certificate.enroll")
        #expect(issued.first?.event.actor == "est/meters/certificate/CN=meter-100", "\(issued)")

        for (name, expected) in [("expired", "does not chain"), ("foreign", "does not chain")] {
            try est.csr("\(name)-request", subject: "/CN=\(name)")
            let refused = try await est.enroll(
                "meters",
                "\(name)-request",
                ["--cert", "\(name).pem", "--key", "\(name).key"]
            )
            #expect(refused.status == 403 && refused.text.contains(expected), "\(name): \(refused.text)")
        }
        // A profile that names devices as their manufacturer did: the IDevID's CN, whatever the CSR asks.
        try await est.profile(
            "meters-bound",
            [
                "subjectTemplate": "CN={CLIENT.CN},O=Acme Meters",
                "authentication": ["oneTimePasswords": true, "clientCertificateAnchors": [anchor]],
            ]
        )
        try est.csr("claims", subject: "/CN=meter-999")
        let bound = try await est.enroll("meters-bound", "claims", ["--cert", "idevid.pem", "--key", "idevid.key"])
        #expect(bound.status == 200, "\(bound.text)")
        let boundCertificate = try est.saveCertificate(bound, as: "bound")
        #expect(boundCertificate.contains("subject=O = Acme Meters, CN = meter-100"), "\(boundCertificate)")
        // With a password there is no manufacturer's name to use: refused by the rule.
        let password = try await est.oneTimePassword("meters-bound")
        let unbound = try await est.enroll("meters-bound", "claims", ["--user", "m:\(password)"])
        #expect(unbound.status == 403 && unbound.text.contains("without a certificate"), "\(unbound.text)")

        // Without a certificate, and passwords switched off: 401.
        try est.csr("nobody", subject: "/CN=nobody")
        let anonymous = try await est.enroll("meters", "nobody", ["--user", "x:abcdef-ghijkl-mnopqr-stuvwx"])
        #expect(anonymous.status == 401, "\(anonymous.text)")
        #expect(try await est.audit("certificate.enroll").count == 2)
        #expect(try await est.audit("enrollment.refused").count == 4)
    }

    @Test func badRequestsAreRefusedWithATextBodyAndNothingIssued() async throws {
        let est = try await ESTServer.start()
        try await est.profile("line")
        let password = try await est.oneTimePassword("line")
        let auth = ["--user", "d:\(password)"]
        let url = "\(est.base)/.well-known/est/line/simpleenroll"
        func post(_ body: String, type: String = "application/pkcs10", _ extra: [String] = []) async throws
            -> HTTPResult
        {
            try await est.curl(
                ["-X", "POST", "-H", "Content-Type: \(type)", "--data-binary", body] + auth + extra + [url]
            )
        }

        let garbage = try await post("this is not base64 at all!")
        #expect(garbage.status == 400 && garbage.headers["content-type"] == "text/plain; charset=utf-8", "\(garbage)")
        let notCSR = try await post("aGVsbG8gd29ybGQ=")
        #expect(notCSR.status == 400 && notCSR.text.contains("invalid_csr"), "\(notCSR.text)")

        try est.csr("good", subject: "/CN=good")
        let good = try String(contentsOfFile: "\(est.directory)/good.b64", encoding: .utf8)
            .replacingOccurrences(of: "\n", with: "")
        let truncated = try await post(String(good.prefix(good.count / 2 / 4 * 4)))
        #expect(truncated.status == 400 && truncated.text.contains("invalid_csr"), "\(truncated.text)")
        // One bit of the signature flipped: no proof of possession.
        var der = try #require(Data(base64Encoded: good))
        der[der.count - 5] ^= 0x01
        let forged = try await post(der.base64EncodedString())
        #expect(forged.status == 400 && forged.text.contains("does not verify"), "\(forged.text)")

        let wrongType = try await post(good, type: "application/json")
        #expect(wrongType.status == 415, "\(wrongType.text)")
        let unknown = try await est.curl(
            ["-X", "POST", "-H", "Content-Type: application/pkcs10", "--data-binary", good] + auth
                + ["\(est.base)/.well-known/est/nowhere/simpleenroll"]
        )
        #expect(unknown.status == 404 && unknown.text.contains("unknown_profile"), "\(unknown.text)")
        let noDefault = try await est.curl(["\(est.base)/.well-known/est/cacerts"])
        #expect(noDefault.status == 404, "no profile is named default: \(noDefault.text)")
        let huge = try await est.curl(
            [
                "-X", "POST", "-H", "Content-Type: application/pkcs10", "--data-binary",
                String(repeating: "A", count: 70_000),
            ]
                + auth + [url]
        )
        #expect(huge.status == 413, "\(huge.text)")

        // A CSR the policy refuses (a 1024-bit RSA key; a CA certificate).
        try est.openssl([
            "req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", "weak.key", "-subj", "/CN=weak", "-outform",
            "DER", "-out", "weak.der",
        ])
        let weak = try Data(contentsOf: URL(fileURLWithPath: "\(est.directory)/weak.der")).base64EncodedString()
        let refusedWeak = try await post(weak)
        #expect(refusedWeak.status == 403 && refusedWeak.text.contains("allowedKeyAlgorithms"), "\(refusedWeak.text)")
        try est.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-subj", "/CN=sub", "-addext", "basicConstraints=critical,CA:true", "-outform", "DER", "-out", "subca.der",
        ])
        let subCA = try Data(contentsOf: URL(fileURLWithPath: "\(est.directory)/subca.der")).base64EncodedString()
        let refusedCA = try await post(subCA)
        #expect(refusedCA.status == 403 && refusedCA.text.contains("endEntityOnly"), "\(refusedCA.text)")

        // The one-time password survived every refusal: the good request still gets its certificate.
        #expect(try await est.audit("certificate.enroll").isEmpty)
        #expect(try await est.audit("enrollment.refused").count == 9, "every refused enrollment request is audited")
        let issued = try await post(good)
        #expect(issued.status == 200, "\(issued.text)")
    }

    /// EST over plain HTTP: the CA certificates are public, but no password travels in the clear.
    @Test func enrollmentNeedsHTTPS() async throws {
        let server = try await ServerFixture()
        _ = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "plain", "algorithm": "ec-p256", "subject": "CN=Plain"]
        )
        let created = try await server.request(
            "POST",
            "/v1/enrollment/profiles",
            token: server.adminToken,
            json: ["id": "default", "ca": "plain", "category": "device"]
        )
        #expect(created.status == 201, "\(created.text)")
        let cacerts = try await server.request("GET", "/.well-known/est/cacerts", token: nil)
        #expect(cacerts.status == 200 && cacerts.headers["content-type"]?.hasPrefix("application/pkcs7-mime") == true)
        let enroll = try await server.request(
            "POST",
            "/.well-known/est/simpleenroll",
            token: nil,
            body: Data("MIIB".utf8),
            contentType: "application/pkcs10"
        )
        #expect(enroll.status == 403 && enroll.text.contains("HTTPS"), "\(enroll.text)")
    }
}
