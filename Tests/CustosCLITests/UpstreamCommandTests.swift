import CustosTestSupport
import Foundation
import Testing

/// `custos ca upstream` and `custos ca set-certificate` against a running `custos serve`, with OpenSSL's
/// CMP mock server as the upstream CA and a certificate issued through it with `custos cert issue`.
@Suite(.serialized) struct UpstreamCommandTests {
    @Test func anUpstreamCAFromTheCommandLineIssuesThroughCMP() async throws {
        let directory = try makeTemporaryDirectory("upstream-cli")
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments, currentDirectory: directory)
            try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        func certify(_ csr: String, _ out: String, _ extensions: String) throws {
            try extensions.write(toFile: directory + "/\(out).ext", atomically: true, encoding: .utf8)
            try openssl([
                "x509", "-req", "-in", csr, "-CA", "up.pem", "-CAkey", "up.key", "-CAcreateserial", "-days", "9",
                "-extfile", "\(out).ext", "-out", out,
            ])
        }
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "up.key",
            "-out", "up.pem", "-subj", "/CN=Plant CA", "-days", "10", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign",
        ])
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
            "-subj", "/CN=press 4", "-out", "leaf.csr",
        ])
        try certify("leaf.csr", "leaf.pem", "keyUsage=critical,digitalSignature\n")

        let serve = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        func run(_ arguments: [String]) throws -> CommandResult {
            try custos(arguments + ["--url", "http://127.0.0.1:\(port)"], directory: directory)
        }
        let mockPort = Int.random(in: 20_000..<30_000)
        let wrong = try run(["ca", "upstream", "--id", "plant", "--endpoint", "ftp://x", "--certificate", "up.pem"])
        #expect(wrong.status != 0 && wrong.stderr.contains("url must be an http or https URL"), "\(wrong.stderr)")
        let recorded = try run([
            "ca", "upstream", "--id", "plant", "--endpoint", "http://127.0.0.1:\(mockPort)/pkix/", "--certificate",
            "up.pem",
        ])
        #expect(recorded.status == 0 && recorded.stdout.contains("BEGIN CERTIFICATE REQUEST"), "\(recorded.stderr)")
        try recorded.stdout.write(toFile: directory + "/ra.csr", atomically: true, encoding: .utf8)
        // Pending until the RA has its certificate.
        let early = try run(["cert", "issue", "--ca", "plant", "--csr", "leaf.csr", "--category", "device"])
        #expect(early.status != 0 && early.stderr.contains("registration authority"), "\(early.stderr)")
        try certify("ra.csr", "ra.pem", "keyUsage=critical,digitalSignature\n")
        let set = try run(["ca", "set-certificate", "plant", "--certificate", "ra.pem", "--issuer-chain", "up.pem"])
        #expect(set.status == 0 && set.stdout.contains("state active"), "\(set.stdout)\(set.stderr)")

        let profile = try run([
            "enrollment", "create", "press", "--ca", "plant", "--protocols", "est,cmp",
            "--hold-when-upstream-unavailable",
        ])
        #expect(profile.status == 0, "\(profile.stderr)")
        #expect(try run(["enrollment", "show", "press"]).stdout.contains("\"whenUpstreamUnavailable\" : \"hold\""))
        let scep = try run(["enrollment", "create", "scep", "--ca", "plant", "--protocols", "scep"])
        #expect(scep.status != 0 && scep.stderr.contains("SCEP needs an RA key that decrypts"), "\(scep.stderr)")

        // An ACME upstream with external account binding: the MAC key is read from a file and moves into the
        // HSM; the CA is active at once (the RA key is the account key and needs no certificate).
        let eabKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
        try eabKey.write(toFile: directory + "/eab.txt", atomically: true, encoding: .utf8)
        let half = try run([
            "ca", "upstream", "--id", "acme-up", "--protocol", "acme", "--endpoint", "https://localhost:1/dir",
            "--certificate", "up.pem", "--eab-kid", "kid-1",
        ])
        #expect(half.status != 0 && half.stderr.contains("--eab-kid with --eab-key-file"), "\(half.stderr)")
        let acme = try run([
            "ca", "upstream", "--id", "acme-up", "--protocol", "acme", "--endpoint", "https://localhost:1/dir",
            "--certificate", "up.pem", "--eab-kid", "kid-1", "--eab-key-file", "eab.txt",
        ])
        #expect(acme.status == 0 && acme.stdout.contains("state active"), "\(acme.stdout)\(acme.stderr)")
        let shown = try run(["ca", "show", "acme-up"])
        #expect(shown.stdout.contains("\"externalAccountKeyID\" : \"kid-1\"") && !shown.stdout.contains(eabKey))

        let mock = Process()
        mock.executableURL = URL(fileURLWithPath: try which("openssl"))
        mock.arguments = [
            "cmp", "-port", "\(mockPort)", "-srv_cert", "up.pem", "-srv_key", "up.key", "-srv_trusted", "up.pem",
            "-rsp_cert", "leaf.pem",
        ]
        mock.currentDirectoryURL = URL(fileURLWithPath: directory)
        mock.standardOutput = FileHandle.nullDevice
        mock.standardError = FileHandle.nullDevice
        try mock.run()
        defer {
            kill(mock.processIdentifier, SIGKILL)
            mock.waitUntilExit()
        }
        try await Task.sleep(for: .milliseconds(300))
        let issued = try run([
            "cert", "issue", "--ca", "plant", "--csr", "leaf.csr", "--category", "device", "--out", "got.pem",
        ])
        #expect(issued.status == 0, "\(issued.stderr)")
        let same = try runCommand("cmp", ["leaf.pem", "got.pem"], currentDirectory: directory)
        #expect(same.status == 0, "the certificate issued upstream is the one saved: \(same.stdout)")
        #expect(try await serve.stop(SIGTERM) == 0)
    }
}
