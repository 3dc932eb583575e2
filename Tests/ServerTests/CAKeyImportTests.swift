import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// Taking over existing CAs with their keys from PKCS#12 files made by openssl: the keys end up as
/// sensitive, non-extractable HSM objects, the CAs issue certificates and CRLs that openssl verifies
/// against the original certificates, and no key byte reaches the store or the files.
@Suite(.serialized, .stopsServers) struct CAKeyImportTests {
    @Test func rsaAndECCAKeysMoveFromPKCS12IntoTheHSM() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-p12")
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments[0]): \(result.stderr)") }
        }
        let caExtensions = [
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ]
        // An RSA root, exported the old way (RC2/3DES, SHA-1 MAC: the legacy provider reads it).
        try openssl(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/rsa-root.key", "-subj",
                "/CN=Old RSA Root/O=Acme", "-days", "3650", "-out", "\(directory)/rsa-root.pem",
            ] + caExtensions
        )
        try openssl(
            [
                "pkcs12", "-export", "-legacy", "-inkey", "\(directory)/rsa-root.key", "-in",
                "\(directory)/rsa-root.pem",
                "-passout", "pass:rsa secret", "-out", "\(directory)/rsa-root.p12",
            ]
        )
        // An EC P-384 root (outside Custos) and its P-256 sub-CA, exported with the chain (AES, PBKDF2).
        try openssl(
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
                "\(directory)/ec-root.key", "-subj", "/CN=EC Root", "-days", "3650", "-out", "\(directory)/ec-root.pem",
            ]
                + caExtensions
        )
        try openssl(
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/ec-sub.key", "-subj", "/CN=EC Issuing CA", "-out", "\(directory)/ec-sub.csr",
            ]
        )
        try
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            .write(toFile: "\(directory)/sub.ext", atomically: true, encoding: .utf8)
        try openssl(
            [
                "x509", "-req", "-in", "\(directory)/ec-sub.csr", "-CA", "\(directory)/ec-root.pem", "-CAkey",
                "\(directory)/ec-root.key", "-CAcreateserial", "-days", "1000", "-extfile", "\(directory)/sub.ext",
                "-out", "\(directory)/ec-sub.pem",
            ]
        )
        try openssl(
            [
                "pkcs12", "-export", "-inkey", "\(directory)/ec-sub.key", "-in", "\(directory)/ec-sub.pem", "-certfile",
                "\(directory)/ec-root.pem", "-passout", "pass:ec secret", "-out", "\(directory)/ec-sub.p12",
            ]
        )
        func base64(_ name: String) throws -> String {
            try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")).base64EncodedString()
        }
        let before = try await CARouteTests().certificateCount(server)

        // Refused, with nothing stored and nothing in the HSM: wrong password, garbage, an officer.
        let wrong = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "old-rsa", "pkcs12": try base64("rsa-root.p12"), "password": "guess"]
        )
        #expect(
            wrong.status == 400 && wrong.errorCode == "invalid_input"
                && wrong.errorMessage.contains("password is wrong"),
            "\(wrong.text)"
        )
        #expect(!wrong.text.contains("guess"), "the password is not echoed")
        let garbage = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "old-rsa", "pkcs12": Data("not a pkcs12 file".utf8).base64EncodedString(), "password": "x"]
        )
        #expect(garbage.status == 400 && garbage.errorCode == "invalid_certificate", "\(garbage.text)")
        let truncatedFile = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/rsa-root.p12")).prefix(300)
        let truncated = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "old-rsa", "pkcs12": truncatedFile.base64EncodedString(), "password": "rsa secret"]
        )
        #expect(truncated.status == 400, "\(truncated.text)")
        let officer = try await server.credential(.officer)
        let notAdmin = try await server.request(
            "POST",
            "/v1/cas/import",
            token: officer,
            json: ["id": "old-rsa", "pkcs12": try base64("rsa-root.p12"), "password": "rsa secret"]
        )
        #expect(notAdmin.status == 403, "\(notAdmin.text)")
        let missing = try await server.request("GET", "/v1/cas/old-rsa", token: server.adminToken)
        #expect(missing.status == 404, "\(missing.text)")
        #expect(try await privateKeyObjects(server, label: "custos-ca-old-rsa") == 0)
        #expect(try await CARouteTests().certificateCount(server) == before)

        // The RSA root.
        let rsa = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "old-rsa", "pkcs12": try base64("rsa-root.p12"), "password": "rsa secret"]
        )
        try #require(rsa.status == 201, "\(rsa.text)")
        #expect(rsa.json["kind"] as? String == "root" && rsa.json["state"] as? String == "active", "\(rsa.text)")
        // The EC sub-CA, with its external root as chain.
        let ec = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "old-ec", "pkcs12": try base64("ec-sub.p12"), "password": "ec secret"]
        )
        try #require(ec.status == 201, "\(ec.text)")
        #expect(ec.json["kind"] as? String == "external-subordinate", "\(ec.text)")
        let again = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "old-ec", "pkcs12": try base64("ec-sub.p12"), "password": "ec secret"]
        )
        #expect(again.status == 409, "\(again.text)")

        // Each key is a private, sensitive, never-again-extractable signing key whose value cannot be read.
        for label in ["custos-ca-old-rsa", "custos-ca-old-ec"] {
            let protection = try await server.pool.withSession { context in
                let session = context.session
                let objects = try session.findObjects([.objectClass(.privateKey), .label(label)], limit: 2)
                guard objects.count == 1 else { throw TestFailure("\(objects.count) private keys labelled \(label)") }
                let flags = try [AttributeType.sensitive, .extractable, .private, .sign, .decrypt, .token].map {
                    Attribute.decodeBool(try session.attribute($0, of: objects[0]))
                }
                let readable =
                    (try? session.attribute(.value, of: objects[0])) != nil
                    || (try? session.attribute(.privateExponent, of: objects[0])) != nil
                return (flags, readable)
            }
            #expect(protection.0 == [true, false, true, true, false, true], "\(label): \(protection.0)")
            #expect(!protection.1, "\(label): the key's value must not be readable")
        }

        // Both issue; the certificates verify against the original CA certificates.
        for (ca, chainFiles) in [("old-rsa", ["rsa-root.pem"]), ("old-ec", ["ec-root.pem", "ec-sub.pem"])] {
            let csr = try makeCSR(
                directory,
                name: "\(ca)-leaf",
                newkey: CARouteTests.leafKeys[0].newkey,
                subject: "/CN=\(ca) device"
            )
            let leaf = try await server.request(
                "POST",
                "/v1/cas/\(ca)/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "device"]
            )
            try #require(leaf.status == 201, "\(leaf.text)")
            let leafPath = try writeFile(directory, "\(ca)-leaf.pem", Data((leaf.json["certificate"] as! String).utf8))
            var arguments = ["verify", "-x509_strict", "-CAfile", "\(directory)/\(chainFiles[0])"]
            if chainFiles.count > 1 { arguments += ["-untrusted", "\(directory)/\(chainFiles[1])"] }
            let verify = try runCommand("openssl", arguments + [leafPath])
            #expect(verify.stdout.contains(": OK"), "\(ca): \(verify.stdout) \(verify.stderr)")
            let crl = try await server.request("GET", "/crl/\(ca).crl", token: nil)
            let crlPath = try writeFile(directory, "\(ca).crl", crl.body)
            let crlCheck = try runCommand(
                "openssl",
                [
                    "crl", "-inform", "DER", "-in", crlPath, "-CAfile", "\(directory)/\(chainFiles.last!)", "-noout",
                    "-verify",
                ]
            )
            #expect((crlCheck.stdout + crlCheck.stderr).contains("verify OK"), "\(ca): \(crlCheck.stderr)")
        }

        // Bulk import from PKCS#12: a certificate the RSA root issued before Custos, password in a header.
        try openssl(
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/legacy-leaf.key", "-subj", "/CN=legacy device", "-out", "\(directory)/legacy-leaf.csr",
            ]
        )
        try openssl(
            [
                "x509", "-req", "-in", "\(directory)/legacy-leaf.csr", "-CA", "\(directory)/rsa-root.pem", "-CAkey",
                "\(directory)/rsa-root.key", "-CAcreateserial", "-days", "100", "-out", "\(directory)/legacy-leaf.pem",
            ]
        )
        try openssl(
            [
                "pkcs12", "-export", "-inkey", "\(directory)/legacy-leaf.key", "-in", "\(directory)/legacy-leaf.pem",
                "-passout", "pass:leaf", "-out", "\(directory)/legacy-leaf.p12",
            ]
        )
        let leafP12 = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/legacy-leaf.p12"))
        let badPassword = try await server.request(
            "POST",
            "/v1/cas/old-rsa/certificates/import",
            token: server.adminToken,
            body: leafP12,
            headers: ["X-PKCS12-Password": "nope", "Content-Type": "application/x-pkcs12"]
        )
        #expect(badPassword.status == 400 && badPassword.errorMessage.contains("password"), "\(badPassword.text)")
        let bulk = try await server.request(
            "POST",
            "/v1/cas/old-rsa/certificates/import",
            token: server.adminToken,
            body: leafP12,
            headers: ["X-PKCS12-Password": "leaf", "Content-Type": "application/x-pkcs12"]
        )
        #expect(bulk.status == 200 && bulk.json["imported"] as? Int == 1, "\(bulk.text)")

        // The one rule on disk: neither private key's value is in the store or any file of the data directory.
        let secrets = try ["rsa-root.key", "ec-sub.key"].map { name in
            let script =
                "import sys;from cryptography.hazmat.primitives.serialization import load_pem_private_key as l;"
                + "k=l(open(sys.argv[1],'rb').read(),None);n=k.private_numbers();"
                + "v=getattr(n,'d',None) or n.private_value;print(format(v,'x'))"
            let result = try runCommand("python3", ["-c", script, "\(directory)/\(name)"])
            guard result.status == 0 else { throw TestFailure("python: \(result.stderr)") }
            var hex = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if hex.count % 2 == 1 { hex = "0" + hex }
            return stride(from: 0, to: hex.count, by: 2).map { offset -> UInt8 in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
            }
        }
        #expect(secrets[0].count >= 250 && secrets[1].count >= 31)
        let files = FileManager.default.enumerator(atPath: server.directory)?.compactMap { $0 as? String } ?? []
        #expect(!files.isEmpty)
        for file in files {
            guard let contents = FileManager.default.contents(atPath: "\(server.directory)/\(file)") else { continue }
            for secret in secrets {
                // Any 16-byte window of the value would do; the first one is enough to find a copy.
                #expect(contents.range(of: Data(secret.prefix(16))) == nil, "key bytes found in \(file)")
            }
        }
        let audit = try await server.request("GET", "/v1/audit?limit=1000", token: server.adminToken)
        #expect(
            audit.text.contains("key.import") && audit.text.contains("moved from PKCS#12 into the HSM"),
            "\(audit.text)"
        )
    }

    /// How many private key objects the token holds under `label`.
    func privateKeyObjects(_ server: ServerFixture, label: String) async throws -> Int {
        try await server.pool.withSession { context in
            try context.session.findObjects([.label(label)], limit: 4).count
        }
    }
}
