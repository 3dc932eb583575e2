import CustosTestSupport
import Foundation
import Testing

/// Mail notifications through Debian's aiosmtpd: STARTTLS and implicit TLS with AUTH PLAIN and LOGIN,
/// expiry warnings escalating by stage to owners from metadata, scheduled reports with a CSV attached,
/// and a relay that refuses the password.
@Suite struct MailNotificationTests {
    @Test func mailGoesOutOverSTARTTLSAndTLSWithEscalationStagesAndReports() async throws {
        let directory = try makeTemporaryDirectory("notify-mail")
        try NotificationTestSupport.settings.write(
            toFile: "\(directory)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let password = "relay-pass-\(UUID().uuidString)"
        let relay = try await MailRelay(user: "custos-relay", password: password)
        defer { if relay.process.isRunning { kill(relay.process.processIdentifier, SIGKILL) } }
        let node = try ClusterNode(embeddedIn: directory, extra: ["--config", "custos.yaml"])
        try await node.started()
        _ = try await node.makeCA("line")
        #expect(try await node.call("POST", "/v1/vault", ["name": "mail"]).status == 201)
        #expect(try await node.call("PUT", "/v1/vault/mail/secrets/relay", ["text": password]).status == 200)
        #expect(try await node.call("PUT", "/v1/vault/mail/secrets/wrong", ["text": "not-the-password"]).status == 200)
        func channel(_ name: String, port: Int, security: String, mechanism: String?, secret: String) async throws {
            var mail: [String: Any] = [
                "host": "localhost", "port": port, "security": security, "from": "custos@example.com",
                "username": "custos-relay", "password": ["namespace": "mail", "path": secret],
                "trustedCertificates": relay.caPEM, "timeoutSeconds": 10,
            ]
            mail["mechanism"] = mechanism
            let set = try await node.call("PUT", "/v1/notification-channels/\(name)", ["mail": mail])
            #expect(set.status == 200, "\(set.text)")
        }
        try await channel(
            "submission",
            port: relay.ports.starttls,
            security: "starttls",
            mechanism: nil,
            secret: "relay"
        )
        try await channel("smtps", port: relay.ports.tls, security: "tls", mechanism: "LOGIN", secret: "relay")
        try await channel(
            "wrong",
            port: relay.ports.starttls,
            security: "starttls",
            mechanism: "PLAIN",
            secret: "wrong"
        )
        for (name, body) in [
            (
                "revocations",
                [
                    "channel": "submission", "events": ["certificate.revoke"],
                    "recipients": ["pki@example.com", "ops@example.com"],
                ]
            ),
            (
                "expiry",
                [
                    "channel": "smtps",
                    "expiry": [
                        "ca": "line",
                        "stages": [
                            ["name": "first", "daysBefore": 30, "recipients": ["owner"]],
                            ["name": "urgent", "daysBefore": 7, "recipients": ["owner", "lead@example.com"]],
                            ["name": "expired", "daysBefore": 0, "recipients": ["security@example.com"]],
                        ],
                    ],
                ]
            ),
            ("refused", ["channel": "wrong", "events": ["certificate.revoke"], "recipients": ["nobody@example.com"]]),
        ] as [(String, [String: Any])] {
            let set = try await node.call("PUT", "/v1/notification-rules/\(name)", body)
            #expect(set.status == 200, "\(name): \(set.text)")
        }

        func issue(_ name: String, days: Int, metadata: [String: String]) async throws -> String {
            let issued = try await node.call(
                "POST",
                "/v1/cas/line/certificates",
                [
                    "csr": try await newCSR(in: directory, name: name), "category": "device", "validityDays": days,
                    "metadata": metadata,
                ]
            )
            return try #require(issued.json["serial"] as? String, "\(issued.text)")
        }
        let soon = try await issue("soon", days: 5, metadata: ["owner": "alice@example.com", "line": "7"])
        let later = try await issue("later", days: 20, metadata: ["owner": "bob@example.com", "line": "7"])
        _ = try await issue("far", days: 365, metadata: ["owner": "carol@example.com"])
        let revoked = try await issue("revoked", days: 365, metadata: [:])
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(revoked)/revoke", ["reason": "superseded"]).status
                == 200
        )

        // The report rule after the certificates: its first run (within a second) reports them.
        let weekly = try await node.call(
            "PUT",
            "/v1/notification-rules/weekly",
            [
                "channel": "submission", "recipients": ["reports@example.com"],
                "report": ["everyHours": 168, "metadata": ["line": "7"]],
            ]
        )
        #expect(weekly.status == 200, "\(weekly.text)")
        let expected = [
            "pki@example.com", "ops@example.com", "alice@example.com", "lead@example.com", "bob@example.com",
            "reports@example.com",
        ]
        #expect(
            try await NotificationTestSupport.eventually { expected.allSatisfy { !relay.messages(to: $0).isEmpty } },
            "\(relay.messages)"
        )
        // Revocation: over STARTTLS, authenticated, one mail per recipient with the notification's id.
        for address in ["pki@example.com", "ops@example.com"] {
            let mail = try #require(relay.messages(to: address).first)
            #expect(mail["transport"] as? String == "starttls" && mail["tls"] as? Bool == true, "\(mail)")
            #expect(mail["user"] as? String == "custos-relay" && mail["from"] as? String == "custos@example.com")
            #expect(
                (mail["subject"] as? String ?? "").contains("certificate.revoke certificate/line/\(revoked)"),
                "\(mail)"
            )
            #expect((mail["messageId"] as? String ?? "").hasSuffix("@custos>"))
        }
        // Escalation: alice's certificate reached "urgent" (owner and lead), bob's "first" (owner only),
        // carol's none; over implicit TLS with AUTH LOGIN.
        let urgent = try #require(relay.messages(to: "alice@example.com").first)
        #expect(urgent["transport"] as? String == "tls" && urgent["user"] as? String == "custos-relay", "\(urgent)")
        #expect((urgent["subject"] as? String ?? "").contains("expires in 5 days (urgent)"), "\(urgent)")
        #expect((urgent["text"] as? String ?? "").contains("serial: \(soon)"), "\(urgent)")
        let leadSubject = relay.messages(to: "lead@example.com").first?["subject"] as? String ?? ""
        let bobSubject = relay.messages(to: "bob@example.com").first?["subject"] as? String ?? ""
        #expect(leadSubject.hasSuffix("(urgent)") && bobSubject.hasSuffix("(first)"), "\(leadSubject) \(bobSubject)")
        #expect(relay.messages(to: "carol@example.com").isEmpty && relay.messages(to: "security@example.com").isEmpty)
        // The report: the saved search's certificates as an attached CSV, which Python's csv module reads.
        let report = try #require(relay.messages(to: "reports@example.com").first)
        let attachment = try #require((report["attachments"] as? [[String: Any]])?.first, "\(report)")
        #expect(attachment["filename"] as? String == "weekly.csv" && attachment["type"] as? String == "text/csv")
        let csv = attachment["content"] as? String ?? ""
        #expect(csv.hasPrefix("ca,serial,subject,") && csv.contains(soon) && csv.contains(later), "\(csv)")
        #expect(csv.split(whereSeparator: \.isNewline).count == 3, "two certificates have line=7: \(csv)")
        #expect(report["subject"] as? String == "Custos report weekly: 2 certificates")

        // Evaluations go on every second: nothing is sent twice.
        try await Task.sleep(for: .seconds(4))
        for address in expected {
            #expect(relay.messages(to: address).count == 1, "\(address): \(relay.messages(to: address))")
        }

        // A relay that refuses the password (535): a permanent failure, given up at once and visible.
        #expect(
            try await NotificationTestSupport.eventually {
                try await NotificationTestSupport.notification(node, rule: "refused", subjectContaining: revoked)?[
                    "state"
                ] as? String
                    == "failed"
            }
        )
        let refused = try await NotificationTestSupport.notification(node, rule: "refused", subjectContaining: revoked)
        #expect(
            refused?["attempts"] as? Int == 1 && (refused?["lastError"] as? String ?? "").contains("535"),
            "\(String(describing: refused))"
        )
        let pending = try await node.call("GET", "/v1/notifications?state=pending")
        #expect((pending.json["notifications"] as? [Any])?.isEmpty == true, "\(pending.text)")

        #expect(try await node.stop() == 0)
        await relay.stop()
        let store = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/.custos/store/data.mdb"))
        #expect(store.range(of: Data(password.utf8)) == nil, "the relay password is in the store file")
        #expect(!node.process.text.contains(password), "the relay password is in the logs")
    }
}
