import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing

/// The real server over plain HTTP for SCEP (its messages are protected by CMS, and clients speak it
/// over HTTP), a CA `devices` with a P-256 key, and helpers for the command-line clients.
struct SCEPServer {
    let server: ServerFixture
    let directory: String
    var url: String { "http://127.0.0.1:\(server.port)/scep" }

    static func start() async throws -> SCEPServer {
        let server = try await ServerFixture(
            configuration: {
                var configuration = ServerConfiguration(port: 0)
                configuration.enrollmentRetryAfterSeconds = 1
                return configuration
            }()
        )
        let created = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "devices", "algorithm": "ec-p256", "subject": "CN=Devices CA,O=Custos Tests"]
        )
        try #require(created.status == 201, "\(created.text)")
        return SCEPServer(server: server, directory: try makeTemporaryDirectory("scep"))
    }

    /// Creates a profile offering SCEP (one-time passwords unless `fields` say otherwise).
    func profile(_ id: String, _ fields: [String: Any] = [:]) async throws {
        var body: [String: Any] = ["id": id, "ca": "devices", "category": "device", "protocols": ["scep"]]
        body.merge(fields) { $1 }
        let created = try await server.request("POST", "/v1/enrollment/profiles", token: server.adminToken, json: body)
        try #require(created.status == 201, "\(created.text)")
    }

    func oneTimePassword(_ profile: String, label: String = "device") async throws -> String {
        let made = try await server.request(
            "POST",
            "/v1/enrollment/profiles/\(profile)/one-time-passwords",
            token: server.adminToken,
            json: ["label": label]
        )
        try #require(made.status == 201, "\(made.text)")
        return made.json["secret"] as! String
    }

    /// strongSwan's pki, on a thread of its own (the server in this process needs the cooperative pool).
    func pki(_ arguments: [String]) async throws -> CommandResult {
        try await runClient("pki", arguments, currentDirectory: directory)
    }

    func shell(_ script: String) throws {
        let result = try runCommand("sh", ["-c", script], currentDirectory: directory)
        guard result.status == 0 else { throw TestFailure("\(script): \(result.stderr)") }
    }

    func openssl(_ arguments: [String]) throws -> CommandResult {
        try runCommand("openssl", arguments, currentDirectory: directory)
    }

    func verify(_ name: String) throws -> Bool { try IssuedCertificateChecks.verify(name, in: directory) }
    func lint(_ name: String) throws -> [String] { try IssuedCertificateChecks.lint(name, in: directory) }

    func audit(_ action: String) async throws -> [AuditEntry] {
        try await server.api.store.read { try $0.auditEntries(after: nil, limit: 100_000) }.filter {
            $0.event.action == action
        }
    }
}
