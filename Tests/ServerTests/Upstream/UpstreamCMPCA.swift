import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing

/// An upstream CA outside Custos for the connector's tests: a CA made by openssl, a CMP signer it
/// certified, and OpenSSL's own CMP mock server (`openssl cmp -port`) answering for it; and the real
/// server with an upstream CA record `corporate` pointing there, its RA certified by that CA.
struct UpstreamCMPCA {
    let server: ServerFixture
    let directory: String
    let port: Int

    var url: String { "http://127.0.0.1:\(port)/pkix/" }

    /// Starts the server and makes the upstream PKI's files (`up-ca.pem`, `srv.pem` and their keys).
    static func start() async throws -> UpstreamCMPCA {
        let server = try await ServerFixture(configuration: ServerConfiguration(port: 0))
        let upstream = UpstreamCMPCA(
            server: server,
            directory: try makeTemporaryDirectory("upstream"),
            port: try RawConnection.freePort()
        )
        _ = try upstream.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "up-ca.key",
            "-out", "up-ca.pem", "-subj", "/CN=Corporate CA/O=Upstream Tests", "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try upstream.newKey("srv")
        _ = try upstream.openssl(["req", "-new", "-key", "srv.key", "-subj", "/CN=Corporate CMP", "-out", "srv.csr"])
        try upstream.certify("srv.csr", out: "srv.pem", extensions: "keyUsage=critical,digitalSignature")
        return upstream
    }

    func openssl(_ arguments: [String]) throws -> CommandResult {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments): \(result.stderr)") }
        return result
    }

    func newKey(_ name: String) throws {
        _ = try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(name).key"])
    }

    /// Signs the CSR file `csr` with the upstream CA, with the given extension lines.
    func certify(_ csr: String, out: String, extensions: String, ca: String = "up-ca") throws {
        try extensions.write(toFile: directory + "/\(out).ext", atomically: true, encoding: .utf8)
        _ = try openssl([
            "x509", "-req", "-in", csr, "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial", "-days", "20",
            "-extfile", "\(out).ext", "-out", out,
        ])
    }

    /// A device key `name`.key and the upstream's certificate for it, `name`.pem (what the mock answers).
    func deviceCertificate(_ name: String, subject: String, names: String) throws {
        try newKey(name)
        _ = try openssl(["req", "-new", "-key", "\(name).key", "-subj", subject, "-out", "\(name).csr"])
        try certify(
            "\(name).csr",
            out: "\(name).pem",
            extensions: "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=\(names)\n"
        )
    }

    func text(_ name: String) throws -> String { try String(contentsOfFile: directory + "/" + name, encoding: .utf8) }

    /// Records the upstream CA `id` in Custos and gives its RA a certificate of the upstream CA.
    func record(_ id: String = "corporate", url: String? = nil, _ fields: [String: Any] = [:]) async throws {
        var body: [String: Any] = [
            "id": id, "protocol": "cmp", "url": url ?? self.url, "certificate": try text("up-ca.pem"),
            "timeoutSeconds": 20, "attempts": 2,
        ]
        body.merge(fields) { $1 }
        let created = try await server.request("POST", "/v1/cas/upstream", token: server.adminToken, json: body)
        try #require(created.status == 201, "\(created.text)")
        #expect(created.json["state"] as? String == "pending")
        try #require(created.json["csr"] as? String).write(
            toFile: directory + "/\(id)-ra.csr",
            atomically: true,
            encoding: .utf8
        )
        try certify("\(id)-ra.csr", out: "\(id)-ra.pem", extensions: "keyUsage=critical,digitalSignature\n")
        let activated = try await server.request(
            "PUT",
            "/v1/cas/\(id)/certificate",
            token: server.adminToken,
            json: ["certificate": try text("\(id)-ra.pem"), "issuerChain": try text("up-ca.pem")]
        )
        try #require(activated.status == 200, "\(activated.text)")
        #expect(activated.json["state"] as? String == "active")
    }

    /// OpenSSL's CMP mock server answering every certificate request with `certificate` (a file).
    func mock(answering certificate: String, _ arguments: [String] = []) throws -> BackgroundProcess {
        try BackgroundProcess(
            "openssl",
            [
                "cmp", "-port", "\(port)", "-srv_cert", "srv.pem", "-srv_key", "srv.key", "-srv_trusted", "up-ca.pem",
                "-rsp_cert", certificate, "-accept_raverified",
            ] + arguments,
            directory: directory,
            port: port
        )
    }

    /// REST issuance from the CSR file `csr` at CA `ca`.
    func issue(_ csr: String, ca: String = "corporate") async throws -> HTTPResult {
        try await server.request(
            "POST",
            "/v1/cas/\(ca)/certificates",
            token: server.adminToken,
            json: ["csr": try text(csr), "category": "device"]
        )
    }

    /// The certificates stored as issued by `ca`.
    func certificates(_ ca: String = "corporate") async throws -> [CertificateRecord] {
        try await server.api.store.read { try $0.records(CertificateRecord.self, after: nil, limit: 10_000) }.filter {
            $0.issuer == ca
        }
    }
}

/// A server process a test starts and stops (the CMP mock, a misbehaving upstream), ready once its
/// port accepts connections.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()

    init(_ executable: String, _ arguments: [String], directory: String, port: Int, environment: [String: String] = [:])
        throws
    {
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            // curl exits 7 while nothing listens; any answer (or none in time) means the port is open.
            let probe = try runCommand("curl", ["-s", "-o", "/dev/null", "-m", "1", "http://127.0.0.1:\(port)/"])
            if probe.status != 7 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw TestFailure("\(executable) did not start listening on port \(port)")
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { stop() } }
}
