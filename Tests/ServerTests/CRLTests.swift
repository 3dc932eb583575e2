import CA
import CustosTestSupport
import Foundation
import Server
import SwiftASN1
import Testing
import X509

/// Revocation and CRLs over real HTTP, checked with `openssl crl`, `openssl verify -crl_check` and
/// pkilint's `lint_crl`.
@Suite(.serialized, .stopsServers) struct CRLTests {
    @Test func aRevokedCertificateAppearsInTheNextCRLAndDeltaCRL() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.ca = CAConfiguration(publicBaseURL: "http://pki.example.com")
        let server = try await ServerFixture(configuration: configuration)
        let directory = try makeTemporaryDirectory("custos-crl")
        let ca = CARouteTests()
        try await ca.createCA(
            server,
            id: "crl-root",
            algorithm: "ec-p384",
            subject: "CN=CRL Root,O=Custos Test",
            pathLength: 0
        )
        // The issuing CA signs with RSA, so both signature families produce CRLs here.
        try await ca.createCA(server, id: "crl-root-b", algorithm: "rsa-2048", subject: "CN=CRL Root B,O=Custos Test")
        var leaves: [String: (serial: String, path: String)] = [:]
        for name in ["alpha", "beta", "gamma", "delta"] {
            let csr = try makeCSR(
                directory,
                name: name,
                newkey: CARouteTests.leafKeys[0].newkey,
                subject: "/CN=\(name)"
            )
            let issued = try await server.request(
                "POST",
                "/v1/cas/crl-root/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "tls-client", "metadata": ["batch": "b-7"]]
            )
            try #require(issued.status == 201, "\(issued.text)")
            let path = try writeFile(directory, "\(name).pem", Data((issued.json["certificate"] as! String).utf8))
            leaves[name] = (issued.json["serial"] as! String, path)
        }
        let rootPEM = try await server.request("GET", "/v1/cas/crl-root/certificate", token: server.adminToken)
        let rootPath = try writeFile(directory, "root.pem", rootPEM.body)

        // The first CRL: no entries, served without credentials, with caching headers.
        let first = try await fetchCRL(server, "crl-root", directory: directory, name: "first")
        #expect(first.response.headers["content-type"] == "application/pkix-crl")
        let maxAge = first.response.headers["cache-control"].flatMap { $0.split(separator: "=").dropFirst().first }
            .flatMap { Int($0.prefix { $0.isNumber }) }
        #expect(maxAge.map { (86_000...86_400).contains($0) } == true, "\(first.response.headers)")
        #expect(first.response.headers["expires"] != nil && first.response.headers["etag"] != nil)
        try expectSignatureVerifies(first.path, rootPath)
        #expect(!first.text.contains("Serial Number:"), "\(first.text)")
        #expect(
            first.text.contains("Freshest CRL") && first.text.contains("http://pki.example.com/crl/crl-root.delta.crl"),
            "\(first.text)"
        )
        let firstNumber = try crlNumber(first.text)
        for name in ["alpha", "beta"] {
            try expectVerify(leaves[name]!.path, rootPath, crl: first.path, revoked: false)
        }

        // Revocations: reasons, an invalidity date, no reason, and a hold made final.
        let invalidSince = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
        try await revoke(
            server,
            "crl-root",
            leaves["alpha"]!.serial,
            ["reason": "keyCompromise", "invalidityDate": invalidSince],
            expect: 200
        )
        try await revoke(server, "crl-root", leaves["beta"]!.serial, [:], expect: 200)
        try await revoke(server, "crl-root", leaves["gamma"]!.serial, ["reason": "certificateHold"], expect: 200)
        try await revoke(server, "crl-root", leaves["gamma"]!.serial, ["reason": "superseded"], expect: 200)
        let again = try await revoke(server, "crl-root", leaves["alpha"]!.serial, ["reason": "superseded"], expect: 409)
        #expect(again.errorCode == "already_revoked" && again.errorMessage.contains("keyCompromise"), "\(again.text)")
        #expect(try await revoke(server, "crl-root", "0badc0ffee", [:], expect: 404).errorCode == "unknown_certificate")
        #expect(
            try await revoke(server, "crl-root", leaves["delta"]!.serial, ["reason": "sleepy"], expect: 400).errorCode
                == "invalid_input"
        )
        #expect(
            try await revoke(server, "crl-root", leaves["delta"]!.serial, ["reason": "removeFromCRL"], expect: 400)
                .errorCode == "invalid_input"
        )
        let shown = try await server.request(
            "GET",
            "/v1/cas/crl-root/certificates/\(leaves["alpha"]!.serial)",
            token: server.adminToken
        )
        #expect(shown.json["status"] as? String == "revoked")

        let second = try await fetchCRL(server, "crl-root", directory: directory, name: "second")
        try expectSignatureVerifies(second.path, rootPath)
        let secondNumber = try crlNumber(second.text)
        #expect(secondNumber > firstNumber, "CRL numbers increase: \(firstNumber) then \(secondNumber)")
        let entries = try crlEntries(second.text)
        #expect(
            Set(entries.keys) == Set(["alpha", "beta", "gamma"].map { leaves[$0]!.serial.uppercased() }),
            "\(second.text)"
        )
        #expect(entries[leaves["alpha"]!.serial.uppercased()]?.contains("Key Compromise") == true)
        #expect(entries[leaves["alpha"]!.serial.uppercased()]?.contains("Invalidity Date") == true)
        #expect(
            entries[leaves["beta"]!.serial.uppercased()]?.contains("Reason") == false,
            "unspecified: no reason code"
        )
        #expect(entries[leaves["gamma"]!.serial.uppercased()]?.contains("Superseded") == true)
        try expectVerify(leaves["alpha"]!.path, rootPath, crl: second.path, revoked: true)
        try expectVerify(leaves["delta"]!.path, rootPath, crl: second.path, revoked: false)

        // The delta CRL: based on the full CRL, listing the recent revocations.
        let delta = try await fetchCRL(server, "crl-root", directory: directory, name: "delta", delta: true)
        try expectSignatureVerifies(delta.path, rootPath)
        #expect(delta.text.contains("Delta CRL Indicator: critical"), "\(delta.text)")
        #expect(delta.text.contains("\(secondNumber)"), "base CRL number \(secondNumber): \(delta.text)")
        #expect(try crlNumber(delta.text) == secondNumber + 1)
        #expect(Set(try crlEntries(delta.text).keys) == Set(entries.keys))

        // The issuer bytes equal the CA certificate's subject bytes.
        let crlDER = try Data(contentsOf: URL(fileURLWithPath: second.path))
        let rootCertificate = try Certificate(pemEncoded: String(decoding: rootPEM.body, as: UTF8.self))
        #expect(try issuerBytes(ofCRL: Array(crlDER)) == subjectBytes(rootCertificate))

        // pkilint on the full and the delta CRL.
        for path in [first.path, second.path, delta.path] {
            let lint = try runCommand(
                "lint_crl",
                ["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING", "-f", "CSV", path]
            )
            let findings = lint.stdout.split(separator: "\n").dropFirst()
            #expect(lint.status == 0 && findings.isEmpty, "\(path): \(lint.stdout) \(lint.stderr)")
        }

        // Publishing on request moves the number on by two (full and delta share the sequence).
        let published = try await server.request("POST", "/v1/cas/crl-root/crl", token: server.adminToken)
        #expect(
            published.status == 200 && published.json["number"] as? Int == Int(secondNumber) + 2,
            "\(published.text)"
        )
        // The RSA root's CRL verifies too.
        let rootB = try await server.request("GET", "/v1/cas/crl-root-b/certificate", token: server.adminToken)
        let rootBPath = try writeFile(directory, "root-b.pem", rootB.body)
        let rsaCRL = try await fetchCRL(server, "crl-root-b", directory: directory, name: "rsa")
        try expectSignatureVerifies(rsaCRL.path, rootBPath)
        #expect(rsaCRL.text.contains("sha256WithRSAEncryption"), "\(rsaCRL.text)")
        // Unknown CAs have no CRL.
        let missing = try await server.request("GET", "/crl/nobody.crl", token: nil)
        #expect(missing.status == 404 && missing.errorCode == "unknown_ca", "\(missing.text)")
    }

    // MARK: Helpers

    struct FetchedCRL {
        var response: HTTPResult
        var path: String
        var text: String
    }

    /// After a re-key both keys publish CRLs: certificates signed by the old key keep being checked with
    /// the old key's CRL at the URL they name, new ones with the new key's.
    @Test func aReKeyedCAPublishesACRLPerKey() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.ca = CAConfiguration(publicBaseURL: "http://pki.example.com")
        let server = try await ServerFixture(configuration: configuration)
        let directory = try makeTemporaryDirectory("custos-crl-rekey")
        try await CARouteTests().createCA(server, id: "rk", algorithm: "ec-p256", subject: "CN=Rekeyed CA")
        func issue(_ name: String) async throws -> (serial: String, path: String, text: String) {
            let issued = try await issueLeaf(server, ca: "rk", name: name, in: directory)
            let text = try runCommand("openssl", ["x509", "-noout", "-text"], input: Data(issued.pem.utf8)).stdout
            return (issued.serial, issued.path, text)
        }
        let old = try await issue("old-leaf")
        #expect(old.text.contains("http://pki.example.com/crl/rk.crl"), "\(old.text)")
        let oldCA = try await server.request("GET", "/v1/cas/rk/certificate", token: server.adminToken)
        let oldCAPath = try writeFile(directory, "old-ca.pem", oldCA.body)

        let renewed = try await server.request(
            "POST",
            "/v1/cas/rk/renew",
            token: server.adminToken,
            json: ["rekey": true]
        )
        try #require(renewed.status == 200, "\(renewed.text)")
        let new = try await issue("new-leaf")
        let newCA = try await server.request("GET", "/v1/cas/rk/certificate", token: server.adminToken)
        let newCAPath = try writeFile(directory, "new-ca.pem", newCA.body)
        // The new key's certificates name its own CRL and CA certificate.
        let scopeURL = try #require(
            new.text.split(separator: "\n").first { $0.contains("http://pki.example.com/crl/rk.") }
        )
        let scope = String(scopeURL.split(separator: "/crl/").last!.dropLast(4))
        #expect(scope.hasPrefix("rk.k"), "\(new.text)")
        #expect(new.text.contains("http://pki.example.com/ca/\(scope).crt"), "\(new.text)")
        #expect(old.text.contains("http://pki.example.com/ca/rk.crt"), "\(old.text)")

        for serial in [old.serial, new.serial] {
            try await revoke(server, "rk", serial, ["reason": "keyCompromise"], expect: 200)
        }
        // The old key's CRL, at the URL the old certificate names: signed by the old key, lists the old leaf.
        let oldCRL = try await fetchCRL(server, "rk", directory: directory, name: "old-key")
        try expectSignatureVerifies(oldCRL.path, oldCAPath)
        try expectVerify(old.path, oldCAPath, crl: oldCRL.path, revoked: true)
        // The new key's CRL: signed by the new key, lists the new leaf; its delta CRL too.
        let newCRL = try await fetchCRL(server, scope, directory: directory, name: "new-key")
        try expectSignatureVerifies(newCRL.path, newCAPath)
        try expectVerify(new.path, newCAPath, crl: newCRL.path, revoked: true)
        #expect(newCRL.text.contains("http://pki.example.com/crl/\(scope).delta.crl"), "\(newCRL.text)")
        let newDelta = try await fetchCRL(server, scope, directory: directory, name: "new-key-delta", delta: true)
        try expectSignatureVerifies(newDelta.path, newCAPath)
        // Each scope numbers its CRLs on its own; the API's CRL is the current key's.
        #expect(try crlNumber(newCRL.text) == 1, "\(newCRL.text)")
        let apiCRL = try await server.request("GET", "/v1/cas/rk/crl", token: server.adminToken)
        #expect(apiCRL.body == newCRL.response.body)
        // The old key's CA certificate stays available at the URL old certificates name.
        let oldServed = try await server.request("GET", "/ca/rk.crt", token: nil)
        let newServed = try await server.request("GET", "/ca/\(scope).crt", token: nil)
        let currentDER = try await server.request("GET", "/v1/cas/rk/certificate?format=der", token: server.adminToken)
        #expect(newServed.status == 200 && newServed.body == currentDER.body)
        let servedPath = try writeFile(directory, "served-old.der", oldServed.body)
        let servedPrint = try runCommand(
            "openssl",
            ["x509", "-inform", "DER", "-in", servedPath, "-noout", "-fingerprint"]
        )
        let oldPrint = try runCommand("openssl", ["x509", "-in", oldCAPath, "-noout", "-fingerprint"])
        #expect(oldServed.status == 200 && servedPrint.status == 0 && servedPrint.stdout == oldPrint.stdout)
        let unknownScope = try await server.request("GET", "/crl/rk.k99.crl", token: nil)
        #expect(unknownScope.status == 404, "\(unknownScope.text)")
    }

    func fetchCRL(_ server: ServerFixture, _ ca: String, directory: String, name: String, delta: Bool = false)
        async throws -> FetchedCRL
    {
        let response = try await server.request("GET", "/crl/\(ca)\(delta ? ".delta" : "").crl", token: nil)
        try #require(response.status == 200, "\(response.text)")
        let path = try writeFile(directory, "\(name).crl", response.body)
        let text = try runCommand("openssl", ["crl", "-inform", "DER", "-in", path, "-noout", "-text"])
        try #require(text.status == 0, "\(text.stderr)")
        return FetchedCRL(response: response, path: path, text: text.stdout)
    }

    @discardableResult
    func revoke(_ server: ServerFixture, _ ca: String, _ serial: String, _ body: [String: Any], expect status: Int)
        async throws -> HTTPResult
    {
        let result = try await server.request(
            "POST",
            "/v1/cas/\(ca)/certificates/\(serial)/revoke",
            token: server.adminToken,
            json: body
        )
        #expect(result.status == status, "revoke \(serial) \(body): \(result.text)")
        return result
    }

    func expectSignatureVerifies(_ crl: String, _ issuer: String) throws {
        let result = try runCommand(
            "openssl",
            ["crl", "-inform", "DER", "-in", crl, "-CAfile", issuer, "-noout", "-verify"]
        )
        #expect(
            result.status == 0 && (result.stderr + result.stdout).contains("verify OK"),
            "\(result.stdout) \(result.stderr)"
        )
    }

    /// `openssl verify -crl_check`: OK, or "certificate revoked".
    func expectVerify(_ leaf: String, _ root: String, crl: String, revoked: Bool) throws {
        let pem = try runCommand("openssl", ["crl", "-inform", "DER", "-in", crl, "-outform", "PEM"])
        let crlPEM = try writeFile(
            (crl as NSString).deletingLastPathComponent,
            "check-\(UUID().uuidString).pem",
            Data(pem.stdout.utf8)
        )
        let result = try runCommand("openssl", ["verify", "-crl_check", "-CAfile", root, "-CRLfile", crlPEM, leaf])
        if revoked {
            #expect(
                result.status != 0 && (result.stdout + result.stderr).contains("certificate revoked"),
                "\(result.stdout) \(result.stderr)"
            )
        } else {
            #expect(result.status == 0 && result.stdout.contains(": OK"), "\(result.stdout) \(result.stderr)")
        }
    }

    func crlNumber(_ text: String) throws -> UInt64 {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let index = lines.firstIndex(where: { $0.hasPrefix("X509v3 CRL Number") }), index + 1 < lines.count,
            let number = UInt64(lines[index + 1])
        else { throw TestFailure("no CRL number in \(text)") }
        return number
    }

    /// Serial (upper-case hex) → the text of its entry.
    func crlEntries(_ text: String) throws -> [String: String] {
        var entries: [String: String] = [:]
        let blocks = text.components(separatedBy: "Serial Number: ").dropFirst()
        for block in blocks {
            let serial = String(block.prefix { $0.isHexDigit })
            entries[serial] = block.components(separatedBy: "Signature Algorithm").first ?? String(block)
        }
        return entries
    }

    func issuerBytes(ofCRL der: [UInt8]) throws -> [UInt8] {
        let root = try DER.parse(der)
        guard case .constructed(let list) = root.content, let tbs = Array(list).first,
            case .constructed(let fields) = tbs.content
        else { throw TestFailure("not a CRL") }
        // version, signature, issuer
        return Array(Array(fields)[2].encodedBytes)
    }

    func subjectBytes(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.subject)
        return serializer.serializedBytes
    }
}
