import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing

/// The real server over plain HTTP for CMP (its messages protect themselves, RFC 9811 section 3.6), a CA
/// `devices` with a P-256 key, the CA certificate and the RA certificate that signs answers saved as PEM,
/// and `openssl cmp` run against it.
struct CMPServer {
    let server: ServerFixture
    let directory: String

    static func start() async throws -> CMPServer {
        let server = try await ServerFixture(configuration: ServerConfiguration(port: 0))
        let created = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: ["id": "devices", "algorithm": "ec-p256", "subject": "CN=Devices CA,O=Custos Tests"]
        )
        try #require(created.status == 201, "\(created.text)")
        let cmp = CMPServer(server: server, directory: try makeTemporaryDirectory("cmp"))
        let ca = try await server.request("GET", "/v1/cas/devices", token: server.adminToken)
        let pem = try #require(ca.json["certificate"] as? String, "\(ca.text)")
        try pem.write(toFile: cmp.directory + "/ca.pem", atomically: true, encoding: .utf8)
        return cmp
    }

    /// Creates a profile offering CMP (one-time passwords unless `fields` say otherwise).
    func profile(_ id: String, _ fields: [String: Any] = [:]) async throws {
        var body: [String: Any] = ["id": id, "ca": "devices", "category": "device", "protocols": ["cmp"]]
        body.merge(fields) { $1 }
        let created = try await server.request("POST", "/v1/enrollment/profiles", token: server.adminToken, json: body)
        try #require(created.status == 201, "\(created.text)")
    }

    /// A one-time secret of `profile`: its id (the CMP reference, senderKID) and value.
    func oneTimeSecret(_ profile: String, label: String = "device") async throws -> (id: String, secret: String) {
        let made = try await server.request(
            "POST",
            "/v1/enrollment/profiles/\(profile)/one-time-passwords",
            token: server.adminToken,
            json: ["label": label]
        )
        try #require(made.status == 201, "\(made.text)")
        return (made.json["id"] as! String, made.json["secret"] as! String)
    }

    func url(_ profile: String) -> String { "http://127.0.0.1:\(server.port)/.well-known/cmp/p/\(profile)" }

    /// `openssl cmp` against `profile` with the arguments every request needs, on a thread of its own
    /// (the server in this process needs the cooperative pool).
    func cmp(_ profile: String, _ arguments: [String]) async throws -> CommandResult {
        try await runClient(
            "openssl",
            ["cmp", "-server", url(profile), "-recipient", "/CN=Devices CA/O=Custos Tests", "-msg_timeout", "30"]
                + arguments,
            currentDirectory: directory
        )
    }

    func openssl(_ arguments: [String]) throws -> CommandResult {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments): \(result.stderr)") }
        return result
    }

    func newKey(_ name: String) throws {
        _ = try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "\(name).key"])
    }

    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))
    }

    func verify(_ name: String) throws -> Bool { try IssuedCertificateChecks.verify(name, in: directory) }
    func lint(_ name: String) throws -> [String] { try IssuedCertificateChecks.lint(name, in: directory) }

    func audit(_ action: String) async throws -> [AuditEntry] {
        try await server.api.store.read { try $0.auditEntries(after: nil, limit: 100_000) }.filter {
            $0.event.action == action
        }
    }

    /// The certificates issued through CMP.
    func certificates() async throws -> [CertificateRecord] {
        try await server.api.store.read { try $0.records(CertificateRecord.self, after: nil, limit: 10_000) }.filter {
            $0.metadata["enrollment.protocol"] == "cmp"
        }
    }
}
