import CustosTestSupport
import Foundation

/// An RFC 3161 time-stamping authority on loopback: `openssl ts -reply` behind a small Python HTTP
/// server, with its own root and a TSA certificate (EKU timeStamping, critical).
final class LocalTSA {
    let url: URL
    let rootPath: String
    private let directory: String
    private let process: Process

    init() throws {
        directory = try makeTemporaryDirectory("custos-tsa")
        let d = directory
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments): \(result.stderr)") }
        }
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "\(d)/root.key", "-out", "\(d)/root.pem", "-subj", "/CN=Test TSA Root", "-days", "2", "-addext",
            "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign",
        ])
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(d)/tsa.key",
            "-out", "\(d)/tsa.csr", "-subj", "/CN=Test TSA",
        ])
        try "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n"
            .write(toFile: "\(d)/tsa.ext", atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", "\(d)/tsa.csr", "-CA", "\(d)/root.pem", "-CAkey", "\(d)/root.key", "-out",
            "\(d)/tsa.pem", "-days", "1", "-extfile", "\(d)/tsa.ext",
        ])
        try "01\n".write(toFile: "\(d)/serial", atomically: true, encoding: .utf8)
        try """
        [ tsa ]
        default_tsa = tsa_config
        [ tsa_config ]
        serial = \(d)/serial
        crypto_device = builtin
        signer_digest = sha256
        default_policy = 1.3.6.1.4.1.99999.1
        digests = sha256, sha384, sha512
        accuracy = secs:1
        ordering = yes
        tsa_name = yes
        ess_cert_id_chain = no
        ess_cert_id_alg = sha256

        """.write(toFile: "\(d)/tsa.cnf", atomically: true, encoding: .utf8)
        try """
        import http.server, os, subprocess, sys
        d = sys.argv[1]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                query = self.rfile.read(int(self.headers["Content-Length"]))
                with open(os.path.join(d, "query.tsq"), "wb") as f:
                    f.write(query)
                with open(os.path.join(d, "requests"), "a") as f:
                    f.write("1\\n")
                made = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(d, "tsa.cnf"),
                    "-queryfile", os.path.join(d, "query.tsq"), "-inkey", os.path.join(d, "tsa.key"),
                    "-signer", os.path.join(d, "tsa.pem"), "-out", os.path.join(d, "reply.tsr")], capture_output=True)
                if made.returncode != 0:
                    self.send_response(500)
                    self.end_headers()
                    return
                with open(os.path.join(d, "reply.tsr"), "rb") as f:
                    reply = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            def log_message(self, *arguments):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()

        """.write(toFile: "\(d)/tsa.py", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try which("python3"))
        process.arguments = ["\(d)/tsa.py", d]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw TestFailure("the TSA did not start") }
            line.append(chunk)
        }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        url = URL(string: "http://127.0.0.1:\(port)/tsa")!
        rootPath = "\(d)/root.pem"
    }

    /// Requests the TSA has answered or refused.
    var requestCount: Int {
        ((try? String(contentsOfFile: "\(directory)/requests", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    func stop() {
        // SIGKILL: the test process may hand its children SIGTERM blocked or ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
