import Codecs
import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing
import X509

/// Debian's `pebble` as the upstream CA over ACME: Custos's RA key in the HSM is the account key, bound
/// to pebble's external account key, whose MAC key lives only wrapped in the HSM once given. Pebble is
/// told to count every challenge valid (an upstream that trusts the bound account for its names).
@Suite(.serialized, .stopsServers) struct UpstreamACMETests {
    static let macKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

    @Test func pebbleIssuesAndRevokesForTheRAsBoundAccount() async throws {
        let directory = try makeTemporaryDirectory("pebble")
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments, currentDirectory: directory)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments): \(result.stderr)") }
        }
        func text(_ name: String) throws -> String {
            try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
        }
        // Pebble's TLS certificate, from a test CA the link trusts.
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls-ca.key",
            "-out", "tls-ca.pem", "-subj", "/CN=Pebble TLS CA", "-days", "5", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ])
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls.key",
            "-out", "tls.csr", "-subj", "/CN=localhost",
        ])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(directory)/tls.ext", atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", "tls.csr", "-CA", "tls-ca.pem", "-CAkey", "tls-ca.key", "-CAcreateserial", "-days",
            "5",
            "-extfile", "tls.ext", "-out", "tls.pem",
        ])
        let (acmePort, managementPort) = (try RawConnection.freePort(), try RawConnection.freePort())
        let configuration: [String: Any] = [
            "pebble": [
                "listenAddress": "127.0.0.1:\(acmePort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
                "certificate": "tls.pem", "privateKey": "tls.key", "httpPort": try RawConnection.freePort(),
                "tlsPort": try RawConnection.freePort(), "ocspResponderURL": "",
                "externalAccountBindingRequired": true, "externalAccountMACKeys": ["kid-1": Self.macKey],
            ]
        ]
        try JSONSerialization.data(withJSONObject: configuration).write(
            to: URL(fileURLWithPath: "\(directory)/pebble.json")
        )
        let pebble = try BackgroundProcess(
            "pebble",
            ["-config", "pebble.json"],
            directory: directory,
            port: acmePort,
            environment: ["PEBBLE_VA_ALWAYS_VALID": "1", "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"]
        )
        defer { pebble.stop() }
        func management(_ path: String) throws -> String {
            let result = try runCommand(
                "curl",
                ["-sf", "--cacert", "tls-ca.pem", "https://localhost:\(managementPort)/\(path)"],
                currentDirectory: directory
            )
            guard result.status == 0 else { throw TestFailure("pebble management \(path): \(result.stderr)") }
            return result.stdout
        }
        let intermediate = try management("intermediates/0")
        let root = try management("roots/0")
        try root.write(toFile: "\(directory)/root.pem", atomically: true, encoding: .utf8)
        try intermediate.write(toFile: "\(directory)/intermediate.pem", atomically: true, encoding: .utf8)

        let server = try await ServerFixture(configuration: ServerConfiguration(port: 0))
        func record(_ id: String, macKey: String) async throws -> HTTPResult {
            try await server.request(
                "POST",
                "/v1/cas/upstream",
                token: server.adminToken,
                json: [
                    "id": id, "protocol": "acme", "url": "https://localhost:\(acmePort)/dir",
                    "certificate": intermediate + root, "responseAnchors": try text("tls-ca.pem"),
                    // A generous bound: an exchange of a second alone takes over 30 s when the whole suite loads
                    // both cores.
                    "externalAccountKeyID": "kid-1", "externalAccountKey": macKey, "timeoutSeconds": 120,
                ]
            )
        }
        let created = try await record("pebble", macKey: Self.macKey)
        #expect(created.status == 201 && created.json["state"] as? String == "active", "\(created.text)")
        #expect((created.json["upstream"] as? [String: Any])?["externalAccountKeyID"] as? String == "kid-1")
        // The MAC key is in the HSM only: the store holds it wrapped, never in the clear.
        let stored = try Data(contentsOf: URL(fileURLWithPath: server.directory + "/store/data.mdb"))
        let macKey = try #require(Base64URL.decode(Self.macKey))
        #expect(stored.range(of: Data(macKey)) == nil)

        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "device.key",
            "-out", "device.csr", "-subj", "/CN=device-31.test", "-addext", "subjectAltName=DNS:device-31.test",
        ])
        func issue() async throws -> HTTPResult {
            try await server.request(
                "POST",
                "/v1/cas/pebble/certificates",
                token: server.adminToken,
                json: ["csr": try text("device.csr"), "category": "tls-server"]
            )
        }
        // Pebble issues for five years, which the CA's policy for TLS servers does not allow: the
        // certificate is refused, revoked at pebble, and not stored.
        let tooLong = try await issue()
        #expect(tooLong.status == 422 && tooLong.text.contains("maxValidityDays"), "\(tooLong.text)")
        #expect(tooLong.text.contains("it was revoked there"), "\(tooLong.text)")
        let refusedSerial = try #require(
            tooLong.text.split(separator: "issued certificate ").last?.prefix { $0.isHexDigit }
        )
        #expect(try management("cert-status-by-serial/\(refusedSerial)").contains("Revoked"))
        var policy = try await server.request("GET", "/v1/cas/pebble/policies/tls-server", token: server.adminToken)
            .json
        policy["maxValidityDays"] = 1900
        let set = try await server.request(
            "PUT",
            "/v1/cas/pebble/policies/tls-server",
            token: server.adminToken,
            json: policy
        )
        try #require(set.status == 200, "\(set.text)")

        let issued = try await issue()
        #expect(issued.status == 201, "\(issued.text)")
        try #require(issued.json["certificate"] as? String).write(
            toFile: "\(directory)/got.pem",
            atomically: true,
            encoding: .utf8
        )
        let verify = try runCommand(
            "openssl",
            ["verify", "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "got.pem"],
            currentDirectory: directory
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let serial = try #require(issued.json["serial"] as? String)

        // Revoked at pebble first.
        let revoked = try await server.request(
            "POST",
            "/v1/cas/pebble/certificates/\(serial)/revoke",
            token: server.adminToken,
            json: ["reason": "keyCompromise"]
        )
        #expect(revoked.status == 200 && revoked.json["status"] as? String == "revoked", "\(revoked.text)")
        #expect(try management("cert-status-by-serial/\(serial)").contains("Revoked"))

        // A request without names (which the device policy allows) cannot be ordered; a wrong external
        // account key is refused by pebble.
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "bare.key",
            "-out", "bare.csr", "-subj", "/CN=no names",
        ])
        let bare = try await server.request(
            "POST",
            "/v1/cas/pebble/certificates",
            token: server.adminToken,
            json: ["csr": try text("bare.csr"), "category": "device"]
        )
        #expect(bare.status == 409 && bare.text.contains("certifies DNS names"), "\(bare.text)")
        let wrong = try await record("wrong", macKey: String(Self.macKey.reversed()))
        try #require(wrong.status == 201, "\(wrong.text)")
        let refused = try await server.request(
            "POST",
            "/v1/cas/wrong/certificates",
            token: server.adminToken,
            json: ["csr": try text("device.csr"), "category": "tls-server"]
        )
        #expect(refused.status == 422 && refused.errorCode == "upstream_refused", "\(refused.text)")
        let certificates = try await server.api.store.read {
            try $0.records(CertificateRecord.self, after: nil, limit: 100)
        }
        #expect(certificates.map(\.issuer) == ["pebble"])
    }
}
