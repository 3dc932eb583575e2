import CA
import Codecs
import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Server
import SwiftASN1
import Testing
import X509

/// Trust anchors, intermediates and certificates issued before Custos, imported.
extension CARouteTests {
    @Test func trustAnchorsAndExistingCertificatesAreImported() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-import")
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments)
            try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        // A PKI that existed before Custos, and one unrelated root.
        for name in ["legacy", "foreign"] {
            try openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/\(name).key", "-subj", "/CN=\(name) root", "-days", "3650", "-out",
                "\(directory)/\(name).pem",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        for (index, root) in ["legacy", "legacy", "legacy", "foreign", "legacy"].enumerated() {
            _ = try makeCSR(
                directory,
                name: "old-\(index)",
                newkey: Self.leafKeys[0].newkey,
                subject: "/CN=old device \(index)"
            )
            try openssl([
                "x509", "-req", "-in", "\(directory)/old-\(index).csr", "-CA", "\(directory)/\(root).pem", "-CAkey",
                "\(directory)/\(root).key", "-CAcreateserial", "-days", "100", "-out", "\(directory)/old-\(index).pem",
            ])
        }
        let rootPEM = try String(contentsOfFile: "\(directory)/legacy.pem", encoding: .utf8)
        let anchor = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "legacy", "certificate": rootPEM]
        )
        #expect(anchor.status == 201 && anchor.json["kind"] as? String == "trust-anchor", "\(anchor.text)")
        let again = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: ["id": "legacy", "certificate": rootPEM]
        )
        #expect(again.status == 409, "\(again.text)")
        let leafAsCA = try await server.request(
            "POST",
            "/v1/cas/import",
            token: server.adminToken,
            json: [
                "id": "not-a-ca", "certificate": try String(contentsOfFile: "\(directory)/old-0.pem", encoding: .utf8),
            ]
        )
        #expect(leafAsCA.status == 400 && leafAsCA.errorMessage.contains("not a CA certificate"), "\(leafAsCA.text)")
        // A trust anchor signs nothing here.
        let csr = try makeCSR(directory, name: "new", newkey: Self.leafKeys[0].newkey, subject: "/CN=new")
        let refused = try await server.request(
            "POST",
            "/v1/cas/legacy/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "device"]
        )
        #expect(refused.status == 409 && refused.errorMessage.contains("trust anchor"), "\(refused.text)")

        // PEM with two of its certificates and a foreign one.
        let pem = try [0, 1, 3].map { try String(contentsOfFile: "\(directory)/old-\($0).pem", encoding: .utf8) }
            .joined()
        let first = try await server.request(
            "POST",
            "/v1/cas/legacy/certificates/import?metadata.batch=old",
            token: server.adminToken,
            body: Data(pem.utf8),
            contentType: "application/x-pem-file"
        )
        #expect(first.status == 200 && first.json["imported"] as? Int == 2, "\(first.text)")
        let skipped = first.json["skipped"] as? [[String: Any]] ?? []
        #expect(
            skipped.count == 1 && (skipped.first?["reason"] as? String ?? "").contains("not signed"),
            "\(first.text)"
        )
        // PKCS#7 (DER) with a new one and one stored already.
        try openssl([
            "crl2pkcs7", "-nocrl", "-certfile", "\(directory)/old-2.pem", "-certfile", "\(directory)/old-0.pem",
            "-outform", "DER", "-out", "\(directory)/bundle.p7b",
        ])
        let second = try await server.request(
            "POST",
            "/v1/cas/legacy/certificates/import",
            token: server.adminToken,
            body: try Data(contentsOf: URL(fileURLWithPath: "\(directory)/bundle.p7b")),
            contentType: "application/pkcs7-mime"
        )
        #expect(
            second.json["imported"] as? Int == 1 && (second.json["skipped"] as? [Any])?.count == 1,
            "\(second.text)"
        )
        // Garbage and a truncated PEM.
        let one = try String(contentsOfFile: "\(directory)/old-1.pem", encoding: .utf8)
        for body in [Data("garbage".utf8), Data((one + one.prefix(one.count / 2)).utf8)] {
            let bad = try await server.request(
                "POST",
                "/v1/cas/legacy/certificates/import",
                token: server.adminToken,
                body: body,
                contentType: "application/octet-stream"
            )
            #expect(bad.status == 400 && bad.errorCode == "invalid_certificate", "\(bad.text)")
        }
        let search = try await server.request("GET", "/v1/certificates?metadata.batch=old", token: server.adminToken)
        #expect((search.json["certificates"] as? [Any])?.count == 2, "\(search.text)")
        // The CLI, with progress, on the store the server has open; DER input.
        try openssl(["x509", "-in", "\(directory)/old-4.pem", "-outform", "DER", "-out", "\(directory)/old-4.der"])
        let custos = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("custos").path
        let cli = try runCommand(
            custos,
            [
                "cert", "import", "--ca", "legacy", "--metadata", "batch=cli", "--data-dir", server.directory,
                "\(directory)/old-4.der",
            ]
        )
        #expect(
            cli.status == 0 && cli.stdout.contains("stored 1/1") && cli.stdout.contains("imported 1, skipped 0"),
            "\(cli.stdout) \(cli.stderr)"
        )
        let missing = try runCommand(
            custos,
            ["cert", "import", "--ca", "legacy", "--data-dir", server.directory, "\(directory)/nope.pem"]
        )
        #expect(missing.status != 0 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
        let summary = try await server.request("GET", "/v1/reports/summary", token: server.adminToken)
        #expect(
            summary.text.contains(#""category":"imported""#) && summary.text.contains(#""count":4"#),
            "\(summary.text)"
        )
    }
}
