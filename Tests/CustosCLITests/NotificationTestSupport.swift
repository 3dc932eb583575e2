import CustosTestSupport
import Foundation
import Testing

/// The real parts the notification tests run against, and their waits.
enum NotificationTestSupport {
    static let scripts = "\(repositoryRoot)/Tests/CustosCLITests/Scripts"
    static let settings = """
        notifications:
          firstRetrySeconds: 1
          longestWaitSeconds: 2
          attempts: 5
          evaluateEverySeconds: 1

        """

    /// Polls `condition` every 100 ms for up to `seconds`.
    static func eventually(_ seconds: Int = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The one notification of `rule` about `object`, as the API lists it.
    static func notification(_ node: ClusterNode, rule: String, subjectContaining text: String) async throws
        -> [String: Any]?
    {
        let listed = try await node.call("GET", "/v1/notifications?rule=\(rule)&limit=1000")
        return (listed.json["notifications"] as? [[String: Any]])?.first {
            ($0["subject"] as? String)?.contains(text) == true
        }
    }
}

/// `webhook_receiver.py` on a free port; its mode is changed by writing a file.
final class WebhookReceiver: @unchecked Sendable {
    let directory: String
    let port: Int
    var process: Process?

    init(secret: String) throws {
        directory = try makeTemporaryDirectory("webhook")
        port = try freeLoopbackPort()
        try secret.write(toFile: "\(directory)/secret", atomically: true, encoding: .utf8)
        try mode("ok")
    }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "\(NotificationTestSupport.scripts)/webhook_receiver.py", String(port), "\(directory)/secret",
            "\(directory)/requests.jsonl", "\(directory)/mode",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    func stop() async {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func mode(_ mode: String) throws {
        try mode.write(toFile: "\(directory)/mode", atomically: true, encoding: .utf8)
    }

    var requests: [[String: Any]] {
        let text = (try? String(contentsOfFile: "\(directory)/requests.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func requests(for id: String) -> [[String: Any]] { requests.filter { $0["id"] as? String == id } }
}

/// `smtp_receiver.py`: STARTTLS and implicit TLS ports, a certificate for localhost from a test CA.
final class MailRelay: @unchecked Sendable {
    let directory: String
    let ports: (starttls: Int, tls: Int)
    let process = Process()

    init(user: String, password: String) async throws {
        directory = try makeTemporaryDirectory("smtp")
        ports = (try freeLoopbackPort(), try freeLoopbackPort())
        try "subjectAltName=DNS:localhost\n".write(
            toFile: "\(directory)/san.cnf",
            atomically: true,
            encoding: .utf8
        )
        for command in [
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=Relay-Test-CA",
            "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout relay.key -out relay.csr -subj /CN=localhost",
            "x509 -req -in relay.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out relay.pem -days 2 -extfile san.cnf",
        ] {
            let result = try await runClient(
                "openssl",
                command.split(separator: " ").map(String.init),
                currentDirectory: directory
            )
            guard result.status == 0 else { throw TestSupportError("openssl \(command): \(result.stderr)") }
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "\(NotificationTestSupport.scripts)/smtp_receiver.py", String(ports.starttls), String(ports.tls),
            "\(directory)/relay.pem", "\(directory)/relay.key", user, password, "\(directory)/messages.jsonl",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Ready once both ports accept connections.
        for port in [ports.starttls, ports.tls] {
            var open = false
            for _ in 0..<100 where !open {
                open = (try? await runClient("bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0
                if !open { try await Task.sleep(for: .milliseconds(100)) }
            }
        }
    }

    var caPEM: String { (try? String(contentsOfFile: "\(directory)/ca.pem", encoding: .utf8)) ?? "" }

    var messages: [[String: Any]] {
        let text = (try? String(contentsOfFile: "\(directory)/messages.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func messages(to address: String) -> [[String: Any]] {
        messages.filter { ($0["to"] as? [String]) == [address] }
    }

    func stop() async {
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
