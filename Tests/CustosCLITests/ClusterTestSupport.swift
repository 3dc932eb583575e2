import CustosTestSupport
import Foundation
import MetadataStore

/// A `custos serve --store postgres://…` node for the cluster tests, with the administrator token the
/// first node left in the shared directory, and calls through curl (off the cooperative pool).
final class ClusterNode: Sendable {
    let process: ServeProcess
    let directory: String

    init(store url: String, directory: String, extra: [String] = []) throws {
        self.directory = directory
        process = try ServeProcess(
            ["--port", "0", "--store", url] + extra,
            directory: directory,
            environment: ["SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath]
        )
    }

    /// A node on the embedded default (SoftHSM token and LMDB under `directory/.custos`).
    init(embeddedIn directory: String, extra: [String] = []) throws {
        self.directory = directory
        process = try ServeProcess(["--port", "0"] + extra, directory: directory)
    }

    /// Waits until the node serves.
    func started() async throws {
        guard try await process.waitFor("press Ctrl-C to stop") else {
            throw TestSupportError("the node did not start: \(process.text)")
        }
    }

    var pid: Int32 { process.process.processIdentifier }

    var port: String {
        get throws {
            guard let port = process.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix(while: \.isNumber)
            else { throw TestSupportError("no port in \(process.text)") }
            return String(port)
        }
    }

    var base: String { get throws { "http://127.0.0.1:\(try port)" } }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: "\(directory)/.custos/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// An authenticated JSON call; the status and the decoded body.
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> (
        status: Int, json: [String: Any], text: String
    ) {
        var arguments = ["-s", "-X", method, "-H", "Authorization: Bearer \(try adminToken)", "-w", "\n%{http_code}"]
        if let body {
            arguments += [
                "-H", "Content-Type: application/json", "--data-binary",
                String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self),
            ]
        }
        let result = try await runClient("curl", arguments + ["\(try base)\(path)"])
        let text = result.stdout
        let status = Int(text.split(separator: "\n").last ?? "") ?? 0
        let body = text.split(separator: "\n").dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        return (status, json, body)
    }

    /// A file fetched without credentials (CRLs).
    func fetch(_ path: String, to file: String) async throws -> Int {
        let result = try await runClient("curl", ["-s", "-o", file, "-w", "%{http_code}", "\(try base)\(path)"])
        return Int(result.stdout) ?? 0
    }
}

extension ClusterNode {
    /// Makes CA `id` (EC P-256) through this node; the path of its certificate's PEM file.
    func makeCA(_ id: String) async throws -> String {
        let created = try await call("POST", "/v1/cas", ["id": id, "subject": "CN=\(id)", "algorithm": "ec-p256"])
        guard created.status == 201 else { throw TestSupportError("CA \(id): \(created.text)") }
        let path = "\(directory)/\(id).pem"
        try (created.json["certificate"] as? String ?? "").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Issues a device certificate of `ca` through this node for a fresh key openssl makes; the path of
    /// the certificate's PEM file and its serial.
    func issue(ca: String, name: String) async throws -> (path: String, serial: String) {
        let issued = try await call(
            "POST",
            "/v1/cas/\(ca)/certificates",
            ["csr": try await newCSR(in: directory, name: name), "category": "device"]
        )
        guard issued.status == 201, let serial = issued.json["serial"] as? String else {
            throw TestSupportError("issuing \(name): \(issued.text)")
        }
        let path = "\(directory)/\(name).pem"
        try (issued.json["certificate"] as? String ?? "").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, serial)
    }

    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32 { try await process.stop(signal) }
}

/// A PEM CSR for a new EC P-256 key (`<name>.key` in `directory`), made by openssl.
func newCSR(in directory: String, name: String) async throws -> String {
    try await runClient(
        "openssl",
        [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "\(directory)/\(name).key", "-subj", "/CN=\(name)",
        ]
    ).stdout
}

/// Reads the shared store directly, as the tests' own node: leases and stored CRLs.
func leaseHolder(_ name: String, in store: any MetadataBackend) async throws -> LeaseRecord? {
    try await store.read { try $0.record(LeaseRecord.self, key: Key().appending(name)) }
}

/// The process id in a lease holder's name (`host/pid/random`).
func holderPID(_ lease: LeaseRecord?) -> Int32? {
    lease.flatMap { Int32($0.holder.split(separator: "/").dropFirst().first ?? "") }
}
