import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing

/// The real server over HTTPS for ACME, a root CA `devices` and below it the issuing CA `web`, and
/// `pebble-challtestsrv` as the validator's DNS (every name is 127.0.0.1). http-01 and tls-alpn-01 are
/// checked on ports the clients' standalone servers (or challtestsrv) listen on.
struct ACMEServer {
    let est: ESTServer
    let challenges: ChallengeTestServer
    /// Where the validator connects for http-01 and tls-alpn-01.
    let http01Port: Int
    let tlsALPN01Port: Int
    var directory: String { est.directory }

    /// With `challengeServerAnswers`, the validator connects to pebble-challtestsrv for http-01 and
    /// tls-alpn-01 (answers set through its API); otherwise to free ports a client's own server takes.
    static func start(
        challengeServerAnswers: Bool = false,
        configure: @escaping (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> ACMEServer {
        let challenges = try ChallengeTestServer()
        let http = try challengeServerAnswers ? challenges.http01Port : RawConnection.freePort()
        let tls = try challengeServerAnswers ? challenges.tlsALPN01Port : RawConnection.freePort()
        let est = try await ESTServer.start { configuration in
            configuration.acmeValidation.resolvers = ["127.0.0.1:\(challenges.dnsPort)"]
            configuration.acmeValidation.http01Port = http
            configuration.acmeValidation.tlsALPN01Port = tls
            configuration.acmeValidation.attemptTimeout = .seconds(5)
            configuration.acmeValidation.attempts = 2
            configuration.acmeValidation.retryDelay = .milliseconds(200)
            configure(&configuration)
        }
        let sub = try await est.api(
            "POST",
            "/v1/cas",
            ["id": "web", "parent": "devices", "algorithm": "ec-p256", "subject": "CN=Web CA,O=Custos Tests"]
        )
        try #require(sub.status == 201, "\(sub.text)")
        let root = try await est.api("GET", "/v1/cas/devices/certificate")
        try root.body.write(to: URL(fileURLWithPath: "\(est.directory)/ca.pem"))
        return ACMEServer(est: est, challenges: challenges, http01Port: http, tlsALPN01Port: tls)
    }

    func stop() { challenges.stop() }

    func directoryURL(_ profile: String) -> String { "\(est.base)/acme/\(profile)/directory" }

    /// Creates a profile of CA `web` issuing `tls-server` certificates over ACME.
    func profile(_ id: String, _ acme: [String: Any] = [:], fields: [String: Any] = [:]) async throws {
        var policy: [String: Any] = ["allowedDomains": ["acme.test"], "allowedIPRanges": ["127.0.0.0/8"]]
        policy.merge(acme) { $1 }
        var body: [String: Any] = [
            "id": id, "ca": "web", "category": "tls-server", "protocols": ["acme"], "acme": policy,
        ]
        body.merge(fields) { $1 }
        let created = try await est.api("POST", "/v1/enrollment/profiles", body)
        try #require(created.status == 201, "\(created.text)")
    }

    /// certbot with its own configuration, work and log directories under `name`, trusting the server.
    func certbot(_ name: String, _ arguments: [String]) async throws -> CommandResult {
        let base = "\(directory)/\(name)"
        return try await runClient(
            "certbot",
            arguments + [
                "--non-interactive", "--config-dir", "\(base)/config", "--work-dir", "\(base)/work", "--logs-dir",
                "\(base)/logs",
            ],
            environment: ["REQUESTS_CA_BUNDLE": est.tlsChain, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"],
            currentDirectory: directory
        )
    }

    /// lego with its own path under `name`, trusting the server.
    func lego(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult
    {
        try await runClient(
            "lego",
            ["--path", "\(directory)/\(name)"] + arguments,
            environment: ["LEGO_CA_CERTIFICATES": est.tlsChain, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
                .merging(environment) { $1 },
            currentDirectory: directory
        )
    }

    /// Copies a PEM file (its first certificate) to `<name>.pem` in the server's directory.
    func keep(_ path: String, as name: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let end = text.range(of: "-----END CERTIFICATE-----") else {
            throw TestFailure("\(path): no certificate")
        }
        try (String(text[..<end.upperBound]) + "\n").write(
            toFile: "\(directory)/\(name).pem",
            atomically: true,
            encoding: .utf8
        )
    }

    /// The serial (hex, lower case) of `<name>.pem`.
    func serial(_ name: String) throws -> String {
        let result = try runCommand(
            "openssl",
            ["x509", "-noout", "-serial", "-in", "\(name).pem"],
            currentDirectory: directory
        )
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(
            of: "serial=",
            with: ""
        )
        .lowercased()
    }

    /// `openssl verify` of `<name>.pem` against the root, with `web` as untrusted intermediate.
    func verify(_ name: String) async throws -> Bool {
        let chain = try await est.api("GET", "/v1/cas/web/certificate")
        try chain.body.write(to: URL(fileURLWithPath: "\(directory)/web.pem"))
        let result = try runCommand(
            "openssl",
            ["verify", "-CAfile", "ca.pem", "-untrusted", "web.pem", "\(name).pem"],
            currentDirectory: directory
        )
        return result.status == 0 && result.stdout.contains("\(name).pem: OK")
    }

    func lint(_ name: String) throws -> [String] { try est.lint(name) }

    func audit(_ action: String) async throws -> [AuditEntry] { try await est.audit(action) }

    /// The stored certificate `serial` of CA `web`.
    func certificate(_ serial: String) async throws -> [String: Any] {
        let answer = try await est.api("GET", "/v1/cas/web/certificates/\(serial)")
        try #require(answer.status == 200, "\(answer.text)")
        return answer.json
    }
}
