import CustosTestSupport
import Foundation
import Testing

/// A renewal rule renews the certificates it selects before their end (same key, under the policy in
/// force), hands the new certificate to a webhook, revokes the old one as superseded, and does each once.
@Suite struct AutomaticRenewalTests {
    @Test func dueCertificatesAreRenewedOnceDeliveredAndSuperseded() async throws {
        let directory = try makeTemporaryDirectory("renewal")
        try NotificationTestSupport.settings.write(
            toFile: "\(directory)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let receiver = try WebhookReceiver(secret: "renewal-hook-secret")
        try receiver.start()
        defer { if let process = receiver.process, process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let node = try ClusterNode(embeddedIn: directory, extra: ["--config", "custos.yaml"])
        try await node.started()
        _ = try await node.makeCA("line")
        func issue(_ name: String, days: Int, line: String) async throws -> String {
            let issued = try await node.call(
                "POST",
                "/v1/cas/line/certificates",
                [
                    "csr": try await newCSR(in: directory, name: name), "category": "device", "validityDays": days,
                    "metadata": ["line": line],
                ]
            )
            guard let serial = issued.json["serial"] as? String else {
                throw TestSupportError("\(name): \(issued.text)")
            }
            return serial
        }
        let due = try await issue("due", days: 10, line: "7")
        let otherLine = try await issue("other-line", days: 10, line: "8")
        let notYet = try await issue("not-yet", days: 200, line: "7")
        #expect(try await node.call("POST", "/v1/vault", ["name": "hooks"]).status == 201)
        #expect(
            try await node.call("PUT", "/v1/vault/hooks/secrets/renewal", ["text": "renewal-hook-secret"]).status == 200
        )
        let channel = try await node.call(
            "PUT",
            "/v1/notification-channels/devices",
            [
                "webhook": [
                    "url": "http://127.0.0.1:\(receiver.port)/renewed",
                    "secret": ["namespace": "hooks", "path": "renewal"],
                ]
            ]
        )
        #expect(channel.status == 200, "\(channel.text)")
        let refused = try await node.call(
            "PUT",
            "/v1/notification-rules/renewals",
            ["channel": "devices", "renew": ["ca": "line", "daysBefore": 0]]
        )
        #expect(
            refused.status == 400 && refused.text.contains("renew.daysBefore must be from 1 to 3650"),
            "\(refused.text)"
        )
        let rule = try await node.call(
            "PUT",
            "/v1/notification-rules/renewals",
            [
                "channel": "devices",
                "renew": [
                    "ca": "line", "daysBefore": 30, "metadata": ["line": "7"], "validityDays": 90,
                    "supersedeAfterDays": 0,
                ],
            ]
        )
        #expect(rule.status == 200, "\(rule.text)")

        // The webhook receives the new certificate.
        #expect(
            try await NotificationTestSupport.eventually {
                receiver.requests.contains { $0["event"] as? String == "certificate.autorenew" }
            },
            "\(receiver.requests)"
        )
        let delivered = try #require(receiver.requests.first { $0["event"] as? String == "certificate.autorenew" })
        #expect(delivered["verified"] as? Bool == true)
        let data = try #require((delivered["body"] as? [String: Any])?["data"] as? [String: Any])
        #expect(data["previousSerial"] as? String == due, "\(data)")
        let newSerial = try #require(data["serial"] as? String)
        let pem = try #require(data["certificate"] as? String)
        try pem.write(toFile: "\(directory)/renewed.pem", atomically: true, encoding: .utf8)
        // Same key as the device's, about 90 days, issued by the CA (openssl reads and checks it).
        let newKey = try await runClient("openssl", ["x509", "-in", "\(directory)/renewed.pem", "-noout", "-pubkey"])
        let deviceKey = try await runClient("openssl", ["pkey", "-in", "\(directory)/due.key", "-pubout"])
        #expect(newKey.status == 0 && newKey.stdout == deviceKey.stdout, "\(newKey.stderr)")
        let verified = try await runClient(
            "openssl",
            ["verify", "-CAfile", "\(directory)/line.pem", "\(directory)/renewed.pem"]
        )
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let renewed = try await node.call("GET", "/v1/cas/line/certificates/\(newSerial)")
        #expect(
            renewed.json["status"] as? String == "valid"
                && (renewed.json["metadata"] as? [String: String])?["line"] == "7"
        )
        // The device can also fetch it by its old serial; the old one is revoked as superseded.
        let found = try await node.call("GET", "/v1/certificates?metadata.renewed-from=\(due)")
        #expect(
            (found.json["certificates"] as? [[String: Any]])?.map { $0["serial"] as? String } == [newSerial],
            "\(found.text)"
        )
        #expect(
            try await NotificationTestSupport.eventually {
                try await node.call("GET", "/v1/cas/line/certificates/\(due)").json["status"] as? String == "revoked"
            }
        )
        // Further passes renew nothing again; certificates the rule does not select are untouched.
        try await Task.sleep(for: .seconds(3))
        #expect(receiver.requests.filter { $0["event"] as? String == "certificate.autorenew" }.count == 1)
        let successors = try await node.call("GET", "/v1/certificates?metadata.renewed-from=\(due)")
        #expect((successors.json["certificates"] as? [Any])?.count == 1)
        for serial in [otherLine, notYet] {
            #expect(
                try await node.call("GET", "/v1/cas/line/certificates/\(serial)").json["status"] as? String == "valid"
            )
            let none = try await node.call("GET", "/v1/certificates?metadata.renewed-from=\(serial)")
            #expect((none.json["certificates"] as? [Any])?.isEmpty == true, "\(none.text)")
        }
        let audit = try await node.call("GET", "/v1/audit?limit=1000")
        let renewals = ((audit.json["entries"] as? [[String: Any]]) ?? []).filter {
            $0["actor"] as? String == "custos-renewal"
        }
        #expect(
            renewals.map { $0["action"] as? String ?? "" }.sorted() == ["certificate.renew", "certificate.revoke"],
            "\(renewals)"
        )
        #expect(try await node.stop() == 0)
        await receiver.stop()
    }
}
