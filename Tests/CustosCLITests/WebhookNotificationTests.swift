import CustosTestSupport
import Foundation
import Testing

/// Webhook notifications through real parts: a receiver (Python, checking the HMAC itself) that fails
/// and hangs on purpose, and `custos serve` killed between an event and its delivery.
@Suite struct WebhookNotificationTests {
    @Test func webhooksAreSignedRetriedAndDeliveredOnceAfterAKill() async throws {
        let directory = try makeTemporaryDirectory("notify-webhook")
        try NotificationTestSupport.settings.write(
            toFile: "\(directory)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let secret = "hook-secret-\(UUID().uuidString)"
        let receiver = try WebhookReceiver(secret: secret)
        try receiver.start()
        defer { if let process = receiver.process, process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var node = try ClusterNode(embeddedIn: directory, extra: ["--config", "custos.yaml"])
        try await node.started()
        _ = try await node.makeCA("line")
        #expect(try await node.call("POST", "/v1/vault", ["name": "notify"]).status == 201)
        #expect(try await node.call("PUT", "/v1/vault/notify/secrets/hook", ["text": secret]).status == 200)
        let hook = "http://127.0.0.1:\(receiver.port)/custos"
        let channel = try await node.call(
            "PUT",
            "/v1/notification-channels/ops",
            ["webhook": ["url": hook, "secret": ["namespace": "notify", "path": "hook"], "timeoutSeconds": 2]]
        )
        #expect(channel.status == 200, "\(channel.text)")
        // The rule through the CLI; a malformed one is refused with the API's message and a failing exit.
        let api = ["--url", try node.base, "--token-file", "\(directory)/.custos/admin.token"]
        try #"{"channel": "ops", "events": ["certificate.revoke"]}"#.write(
            toFile: "\(directory)/rule.json",
            atomically: true,
            encoding: .utf8
        )
        let set = try await custosClient(
            ["notify", "rule", "set", "revocations", "--file", "\(directory)/rule.json"] + api
        )
        #expect(
            set.status == 0 && set.stdout.contains("set rule revocations: events certificate.revoke through ops"),
            "\(set.stderr)"
        )
        try #"{"channel": "ops", "events": "certificate.revoke"}"#.write(
            toFile: "\(directory)/bad.json",
            atomically: true,
            encoding: .utf8
        )
        let bad = try await custosClient(["notify", "rule", "set", "bad", "--file", "\(directory)/bad.json"] + api)
        #expect(
            bad.status != 0 && bad.stderr.contains("invalid_json (HTTP 400): events must be a list"),
            "\(bad.stderr)"
        )
        let rule = try await node.call("GET", "/v1/notification-rules/revocations")
        #expect(rule.status == 200 && rule.json["enabled"] as? Bool == true, "\(rule.text)")

        // Bad rules and channels: refused with the field named, nothing stored.
        for (path, body, message) in [
            (
                "rules/r1", ["channel": "ops", "events": ["certificate.revoke"], "recipents": ["a@b.c"]],
                "recipents: unknown field"
            ),
            ("rules/r1", ["channel": "ops", "events": ["certificate.explode"]], "unknown event"),
            ("rules/r1", ["channel": "nowhere", "events": ["certificate.revoke"]], "no notification channel nowhere"),
            ("rules/r1", ["channel": "ops"], "exactly one of events, expiry, report and renew"),
            ("rules/r1", ["channel": "ops", "report": ["everyHours": 0]], "report.everyHours must be from 1 to 744"),
            ("rules/r1", ["channel": "ops", "report": ["everyHours": 24, "ca": "ghost"]], "no CA ghost"),
            (
                "rules/r1", ["channel": "ops", "events": ["ca.create"], "recipients": ["a@b.c"]],
                "recipients apply to mail"
            ),
            ("rules/r%201", ["channel": "ops", "events": ["ca.create"]], "rule name must be"),
            (
                "channels/c1",
                ["webhook": ["url": "http://example.com/x", "secret": ["namespace": "notify", "path": "hook"]]],
                "http:// only to this host"
            ),
            (
                "channels/c1", ["webhook": ["url": hook, "secret": ["namespace": "notify", "path": "missing"]]],
                "the vault has no secret missing"
            ),
            (
                "channels/c1",
                [
                    "webhook": ["url": hook, "secret": ["namespace": "notify", "path": "hook"]],
                    "mail": ["host": "x", "from": "a@b.c"],
                ], "exactly one of webhook, mail and snmp"
            ),
            ("channels/c1", ["mail": ["host": "relay", "from": "not-an-address"]], "mail.from must be an address"),
            (
                "channels/c1",
                [
                    "mail": [
                        "host": "relay", "from": "a@b.c", "security": "none", "username": "u",
                        "password": ["namespace": "notify", "path": "hook"],
                    ]
                ], "sent over TLS only"
            ),
            ("channels/c1", ["mail": ["host": "relay", "from": "a@b.c", "security": "ssl"]], "mail.security must be"),
        ] as [(String, [String: Any], String)] {
            let refused = try await node.call("PUT", "/v1/notification-\(path)", body)
            let said = (refused.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(refused.status == 400 && said.contains(message), "\(path) \(body): \(refused.text)")
        }
        #expect(try await node.call("GET", "/v1/notification-rules/r1").status == 404)
        #expect(try await node.call("DELETE", "/v1/notification-channels/ops").status == 409)

        // A receiver that fails twice: the same notification again after each backoff, then delivered.
        try receiver.mode("error")
        let first = try await node.issue(ca: "line", name: "first")
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(first.serial)/revoke", ["reason": "keyCompromise"])
                .status == 200
        )
        #expect(try await NotificationTestSupport.eventually { receiver.requests.count >= 2 }, "\(receiver.requests)")
        try receiver.mode("ok")
        #expect(
            try await NotificationTestSupport.eventually { receiver.requests.contains { $0["status"] as? Int == 204 } }
        )
        let attempts = receiver.requests
        let id = try #require(attempts.first?["id"] as? String)
        #expect(
            attempts.allSatisfy {
                $0["id"] as? String == id && $0["verified"] as? Bool == true && $0["fresh"] as? Bool == true
            },
            "\(attempts)"
        )
        let body = try #require(attempts.last?["body"] as? [String: Any])
        let data = try #require(body["data"] as? [String: Any])
        #expect(body["id"] as? String == id && body["event"] as? String == "certificate.revoke")
        #expect(
            data["object"] as? String == "certificate/line/\(first.serial)"
                && data["outcome"] as? String == "success: keyCompromise",
            "\(body)"
        )
        let delivered = try #require(
            try await NotificationTestSupport.notification(node, rule: "revocations", subjectContaining: first.serial)
        )
        #expect(
            delivered["state"] as? String == "delivered" && (delivered["attempts"] as? Int ?? 0) >= 3,
            "\(delivered)"
        )

        // A hanging receiver holds only its own notification: issuance and health answer meanwhile.
        try receiver.mode("hang")
        let hung = try await node.issue(ca: "line", name: "hung")
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(hung.serial)/revoke", ["reason": "superseded"])
                .status == 200
        )
        #expect(
            try await NotificationTestSupport.eventually {
                !receiver.requests.filter { $0["status"] as? Int == 0 }.isEmpty
            }
        )
        for index in 0..<3 { _ = try await node.issue(ca: "line", name: "meanwhile-\(index)") }
        #expect(try await node.call("GET", "/v1/health").status == 200)
        #expect(
            try await NotificationTestSupport.eventually {
                try await NotificationTestSupport.notification(
                    node,
                    rule: "revocations",
                    subjectContaining: hung.serial
                )?["lastError"]
                    as? String
                    == nil ? false : true
            }
        )
        let waiting = try await NotificationTestSupport.notification(
            node,
            rule: "revocations",
            subjectContaining: hung.serial
        )
        #expect(
            waiting?["state"] as? String == "pending"
                && (waiting?["lastError"] as? String ?? "").contains("did not answer"),
            "\(String(describing: waiting))"
        )

        // Killed between the event and its delivery: the receiver is away, the node dies, both come back,
        // and the notification arrives once.
        await receiver.stop()
        try receiver.mode("ok")
        let killed = try await node.issue(ca: "line", name: "killed")
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(killed.serial)/revoke", ["reason": "superseded"])
                .status == 200
        )
        let pending = try #require(
            try await NotificationTestSupport.notification(node, rule: "revocations", subjectContaining: killed.serial)
        )
        #expect(pending["state"] as? String == "pending", "\(pending)")
        let killedID = try #require(pending["id"] as? String)
        #expect(try await node.stop(SIGKILL) == SIGKILL)
        try receiver.start()
        node = try ClusterNode(embeddedIn: directory, extra: ["--config", "custos.yaml"])
        try await node.started()
        #expect(
            try await NotificationTestSupport.eventually {
                receiver.requests(for: killedID).contains { $0["status"] as? Int == 204 }
            }
        )
        try await Task.sleep(for: .seconds(3))
        #expect(
            receiver.requests(for: killedID).filter { $0["status"] as? Int == 204 }.count == 1,
            "\(receiver.requests(for: killedID))"
        )
        #expect(
            receiver.requests(for: id).filter { $0["status"] as? Int == 204 }.count == 1,
            "delivered again after the restart"
        )

        // A receiver that keeps failing: bounded attempts, a visible failed state, and a retry on request.
        try receiver.mode("error")
        let failing = try await node.issue(ca: "line", name: "failing")
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(failing.serial)/revoke", ["reason": "superseded"])
                .status == 200
        )
        #expect(
            try await NotificationTestSupport.eventually {
                try await NotificationTestSupport.notification(
                    node,
                    rule: "revocations",
                    subjectContaining: failing.serial
                )?["state"]
                    as? String == "failed"
            }
        )
        let failed = try #require(
            try await NotificationTestSupport.notification(node, rule: "revocations", subjectContaining: failing.serial)
        )
        #expect(
            failed["attempts"] as? Int == 5 && failed["lastError"] as? String == "the webhook answered HTTP 500",
            "\(failed)"
        )
        let failedID = try #require(failed["id"] as? String)
        let api2 = ["--url", try node.base, "--token-file", "\(directory)/.custos/admin.token"]
        let listed = try await custosClient(["notify", "list", "--state", "failed"] + api2)
        #expect(
            listed.status == 0 && listed.stdout.contains("\(failedID)\tfailed\t5\trevocations\twebhook\t"),
            "\(listed.stdout) \(listed.stderr)"
        )
        try receiver.mode("ok")
        let retried = try await custosClient(["notify", "retry", failedID] + api2)
        #expect(
            retried.status == 0 && retried.stdout.contains("is pending again"),
            "\(retried.stdout) \(retried.stderr)"
        )
        let again = try await custosClient(["notify", "retry", failedID] + api2)
        #expect(again.status != 0 && again.stderr.contains("only a failed notification is retried"), "\(again.stderr)")
        #expect(
            try await NotificationTestSupport.eventually {
                receiver.requests(for: failedID).contains { $0["status"] as? Int == 204 }
            }
        )
        #expect(try await node.call("POST", "/v1/notifications/0000/retry").status == 404)

        // The secret never reaches the store's files or the logs.
        #expect(try await node.stop() == 0)
        await receiver.stop()
        let store = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/.custos/store/data.mdb"))
        #expect(store.range(of: Data(secret.utf8)) == nil, "the webhook secret is in the store file")
        #expect(!node.process.text.contains(secret), "the webhook secret is in the logs")
    }

}
