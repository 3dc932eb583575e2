import CustosTestSupport
import Foundation
import Testing

/// `custos ca …` and `custos cert …` against a running `custos serve`, checked with openssl.
@Suite struct CACommandTests {
    @Test func operatorsRunTheCAFromTheCommandLine() async throws {
        let directory = try makeTemporaryDirectory("ca-cli")
        let serve = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let url = ["--url", "http://127.0.0.1:\(port)"]
        func run(_ arguments: [String]) throws -> CommandResult {
            try custos(arguments + url, directory: directory)
        }
        func openssl(_ arguments: [String]) throws -> CommandResult {
            let result = try runCommand("openssl", arguments, currentDirectory: directory)
            try #require(result.status == 0, "openssl \(arguments[0]): \(result.stderr)")
            return result
        }

        let root = try run([
            "ca", "create", "--id", "root", "--subject", "CN=CLI Root,O=Acme", "--algorithm", "ec-p256",
        ])
        #expect(
            root.status == 0 && root.stdout.contains("created CA root: root CN=CLI Root,O=Acme"),
            "\(root.stdout) \(root.stderr)"
        )
        let issuing = try run(
            [
                "ca", "create", "--id", "issuing", "--parent", "root", "--subject", "CN=CLI Issuing", "--algorithm",
                "ec-p256", "--path-length", "0",
            ]
        )
        #expect(issuing.status == 0, "\(issuing.stderr)")
        let list = try run(["ca", "list"])
        #expect(
            list.stdout.contains("root\troot\tactive") && list.stdout.contains("issuing\tintermediate\tactive"),
            "\(list.stdout)"
        )
        let again = try run(["ca", "create", "--id", "root", "--subject", "CN=Again"])
        #expect(again.status != 0 && again.stderr.contains("ca_exists"), "\(again.stderr)")

        // Issue from an openssl CSR; the chain verifies.
        _ = try openssl(
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
                "-subj", "/CN=line 3 device", "-out", "leaf.csr",
            ]
        )
        let issued = try run(
            [
                "cert", "issue", "--ca", "issuing", "--csr", "leaf.csr", "--category", "device", "--metadata",
                "line=3,batch=47", "--out", "leaf.pem",
            ]
        )
        #expect(issued.status == 0, "\(issued.stderr)")
        let serial = try #require(
            issued.stdout.split(separator: "issued serial ").last?.prefix { $0.isHexDigit }.lowercased()
        )
        #expect(serial.count == 32, "16-byte serial: \(issued.stdout)")
        #expect(try run(["ca", "chain", "issuing", "--out", "chain.pem"]).status == 0)
        let verify = try runCommand(
            "openssl",
            ["verify", "-CAfile", "chain.pem", "leaf.pem"],
            currentDirectory: directory
        )
        #expect(verify.stdout.contains("leaf.pem: OK"), "\(verify.stdout) \(verify.stderr)")
        // With --chain the file holds the certificate and then its chain, each a whole PEM block.
        let withChain = try run(
            [
                "cert", "issue", "--ca", "issuing", "--csr", "leaf.csr", "--category", "device", "--chain", "--out",
                "full.pem",
            ]
        )
        #expect(withChain.status == 0, "\(withChain.stderr)")
        let blocks = try openssl(["storeutl", "-noout", "-certs", "full.pem"])
        let chainBlocks = try openssl(["storeutl", "-noout", "-certs", "chain.pem"])
        #expect(blocks.stdout.contains("Total found: ") && chainBlocks.stdout.contains("Total found: "), "\(blocks)")
        let count = { (text: String) in Int(text.split(separator: "Total found: ").last?.prefix { $0.isNumber } ?? "") }
        #expect(count(blocks.stdout) == (count(chainBlocks.stdout) ?? 0) + 1, "\(blocks.stdout) \(chainBlocks.stdout)")
        let shown = try run(["cert", "show", "--ca", "issuing", "--serial", serial])
        #expect(shown.stdout.contains(#""line":"3""#) || shown.stdout.contains(#""line" : "3""#), "\(shown.stdout)")

        // Revoke; the CRL published now lists it with its reason; a revoked certificate is not renewed.
        let revoked = try run(["cert", "revoke", "--ca", "issuing", "--serial", serial, "--reason", "keyCompromise"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try run(["ca", "crl", "issuing", "--publish", "--out", "issuing.crl"]).status == 0)
        let crl = try openssl(["crl", "-inform", "DER", "-in", "issuing.crl", "-noout", "-text"])
        #expect(
            crl.stdout.contains(serial.uppercased()) && crl.stdout.contains("Key Compromise"),
            "\(crl.stdout)"
        )
        let renewed = try run(["cert", "renew", "--ca", "issuing", "--serial", serial])
        #expect(renewed.status != 0 && renewed.stderr.contains("already_revoked"), "\(renewed.stderr)")
        let badReason = try run(["cert", "revoke", "--ca", "issuing", "--serial", serial, "--reason", "bored"])
        #expect(badReason.status != 0 && badReason.stderr.contains("unknown reason"), "\(badReason.stderr)")

        // An existing CA with its key from PKCS#12; the password comes from a file.
        _ = try openssl(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "old.key", "-subj", "/CN=Old Root", "-days",
                "365", "-out", "old.pem", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]
        )
        _ = try openssl(
            [
                "pkcs12", "-export", "-inkey", "old.key", "-in", "old.pem", "-passout", "pass:correct horse", "-out",
                "old.p12",
            ]
        )
        try "wrong\n".write(toFile: "\(directory)/wrong.txt", atomically: true, encoding: .utf8)
        try "correct horse\n".write(toFile: "\(directory)/password.txt", atomically: true, encoding: .utf8)
        let wrong = try run(["ca", "import", "--id", "old", "--pkcs12", "old.p12", "--password-file", "wrong.txt"])
        #expect(wrong.status != 0 && wrong.stderr.contains("password is wrong"), "\(wrong.stderr)")
        let imported = try run([
            "ca", "import", "--id", "old", "--pkcs12", "old.p12", "--password-file", "password.txt",
        ])
        #expect(
            imported.status == 0 && imported.stdout.contains("key is in the HSM"),
            "\(imported.stdout) \(imported.stderr)"
        )
        let both = try run(["ca", "import", "--id", "x", "--pkcs12", "old.p12", "--certificate", "old.pem"])
        #expect(both.status != 0 && both.stderr.contains("give --pkcs12"), "\(both.stderr)")

        let noToken = try custos(
            ["ca", "list", "--token-file", "\(directory)/nope.token"] + url,
            directory: directory
        )
        #expect(noToken.status != 0 && noToken.stderr.contains("cannot read the credential file"), "\(noToken.stderr)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }
}
