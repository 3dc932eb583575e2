import CustosTestSupport
import Foundation
import Testing

/// A QA station revokes a faulty production batch with its own credential: an administrator defines
/// the action (`custos action set`), gives the station a `trigger` credential for it, and the station
/// runs it over the API with the batch as its parameter. The credential opens nothing else, a run is
/// bounded, and bad definitions and parameters are refused with the field named.
@Suite struct TriggeredActionTests {
    @Test func aQAStationRevokesItsBatchAndNothingElse() async throws {
        let directory = try makeTemporaryDirectory("actions")
        let node = try ClusterNode(embeddedIn: directory)
        try await node.started()
        _ = try await node.makeCA("line")
        func issue(_ name: String, batch: String) async throws -> String {
            let issued = try await node.call(
                "POST",
                "/v1/cas/line/certificates",
                [
                    "csr": try await newCSR(in: directory, name: name), "category": "device",
                    "metadata": ["batch": batch],
                ]
            )
            guard let serial = issued.json["serial"] as? String else {
                throw TestSupportError("issuing \(name): \(issued.text)")
            }
            return serial
        }
        let faulty = [
            try await issue("a1", batch: "A"), try await issue("a2", batch: "A"), try await issue("a3", batch: "A"),
        ]
        let good = try await issue("b1", batch: "B")
        _ = [try await issue("c1", batch: "C"), try await issue("c2", batch: "C")]

        // The action, through the CLI.
        let api = ["--url", try node.base, "--token-file", "\(directory)/.custos/admin.token"]
        try
            #"{"revoke": {"ca": "line", "reason": "keyCompromise", "metadata": {"batch": "{batch}"}, "parameters": ["batch"], "maxCertificates": 3}}"#
            .write(toFile: "\(directory)/action.json", atomically: true, encoding: .utf8)
        let set = try await custosClient(
            ["action", "set", "qa-failed-batch", "--file", "\(directory)/action.json"] + api
        )
        #expect(set.status == 0 && set.stdout.contains("at most 3 certificates"), "\(set.stdout) \(set.stderr)")
        #expect(
            try await node.call(
                "PUT",
                "/v1/actions/other",
                ["revoke": ["ca": "line", "reason": "superseded", "metadata": ["batch": "B"]]]
            ).status == 200
        )
        // Bad definitions: refused with the field named, nothing stored.
        for (body, message) in [
            (
                [
                    "revoke": [
                        "ca": "line", "reason": "keyCompromise", "metadata": ["batch": "{lot}"],
                        "parameters": ["batch"],
                    ]
                ], "revoke.parameters must list each {placeholder}"
            ),
            (["revoke": ["ca": "line", "reason": "bored", "metadata": ["batch": "A"]]], "revoke.reason must be"),
            (
                ["revoke": ["ca": "line", "reason": "superseded", "metadata": [String: String]()]],
                "revoke.metadata needs 1 to 16 pairs"
            ),
            (
                ["revoke": ["ca": "ghost", "reason": "superseded", "metadata": ["batch": "A"]]],
                "revoke.ca: no CA ghost"
            ),
            (
                ["revoke": ["ca": "line", "reason": "superseded", "metadata": ["batch": "A"], "maxCertificates": 0]],
                "revoke.maxCertificates must be"
            ),
            (
                ["revoke": ["ca": "line", "reason": "superseded", "metadata": ["batch": "A"], "max": 3]],
                "revoke.max: unknown field"
            ),
        ] as [([String: Any], String)] {
            let refused = try await node.call("PUT", "/v1/actions/bad", body)
            let said = (refused.json["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(refused.status == 400 && said.contains(message), "\(body): \(refused.text)")
        }
        #expect(try await node.call("GET", "/v1/actions/bad").status == 404)

        // The QA station's credential: made on the data directory while the server runs.
        let made = try await custosClient([
            "credential", "create", "--role", "trigger", "--actions", "qa-*", "--data-dir", "\(directory)/.custos",
        ])
        let token = made.stdout.split(separator: "\n").last { $0.hasPrefix("cst_") }.map(String.init) ?? ""
        #expect(
            made.status == 0 && token.hasPrefix("cst_"),
            "status \(made.status) out [\(made.stdout)] err [\(made.stderr)]"
        )
        func asStation(_ method: String, _ path: String, _ body: String? = nil) async throws -> (
            status: Int, text: String
        ) {
            var arguments = ["-s", "-X", method, "-H", "Authorization: Bearer \(token)", "-w", "\n%{http_code}"]
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let text = try await runClient("curl", arguments + ["\(try node.base)\(path)"]).stdout
            return (
                Int(text.split(separator: "\n").last ?? "") ?? 0,
                text.split(separator: "\n").dropLast().joined(separator: "\n")
            )
        }
        // Nothing but its actions.
        #expect(try await asStation("GET", "/v1/cas").status == 403)
        #expect(try await asStation("GET", "/v1/actions").status == 403)
        #expect(
            try await asStation("POST", "/v1/cas/line/certificates/\(good)/revoke", #"{"reason":"superseded"}"#).status
                == 403
        )
        let other = try await asStation("POST", "/v1/actions/other/run", "{}")
        #expect(other.status == 403 && other.text.contains("may not run the action"), "\(other.text)")
        // Bad parameters.
        for (body, message) in [
            ("{}", "parameters must be exactly batch"),
            (#"{"parameters": {"batch": "A", "line": "4"}}"#, "parameters must be exactly batch"),
            (#"{"parameters": {"batch": "A\nB"}}"#, "parameters.batch must be 1 to 128 characters"),
            (#"{"parameters": {"batch": "A"}, "dry": true}"#, "dry: unknown field"),
        ] {
            let refused = try await asStation("POST", "/v1/actions/qa-failed-batch/run", body)
            #expect(refused.status == 400 && refused.text.contains(message), "\(body): \(refused.text)")
        }
        // A dry run counts; the run revokes exactly the batch.
        let dry = try await asStation(
            "POST",
            "/v1/actions/qa-failed-batch/run",
            #"{"parameters": {"batch": "A"}, "dryRun": true}"#
        )
        #expect(
            dry.status == 200 && dry.text.contains(#""matched":3"#) && dry.text.contains(#""revoked":[]"#),
            "\(dry.text)"
        )
        let run = try await asStation("POST", "/v1/actions/qa-failed-batch/run", #"{"parameters": {"batch": "A"}}"#)
        #expect(run.status == 200, "\(run.text)")
        let revoked =
            ((try JSONSerialization.jsonObject(with: Data(run.text.utf8)) as? [String: Any])?["revoked"] as? [String])
            ?? []
        #expect(Set(revoked) == Set(faulty), "\(run.text)")
        for serial in faulty {
            let certificate = try await node.call("GET", "/v1/cas/line/certificates/\(serial)")
            #expect(certificate.json["status"] as? String == "revoked", "\(certificate.text)")
        }
        #expect(try await node.call("GET", "/v1/cas/line/certificates/\(good)").json["status"] as? String == "valid")
        let again = try await asStation("POST", "/v1/actions/qa-failed-batch/run", #"{"parameters": {"batch": "A"}}"#)
        #expect(again.status == 200 && again.text.contains(#""matched":0"#), "\(again.text)")
        // More than the action allows: nothing revoked.
        for name in ["c3", "c4"] { _ = try await issue(name, batch: "C") }
        let tooMany = try await asStation("POST", "/v1/actions/qa-failed-batch/run", #"{"parameters": {"batch": "C"}}"#)
        #expect(
            tooMany.status == 409 && tooMany.text.contains("4 certificates match, more than the action allows (3)"),
            "\(tooMany.text)"
        )
        let stillValid = try await node.call("GET", "/v1/certificates?ca=line&status=valid&metadata.batch=C")
        #expect((stillValid.json["certificates"] as? [Any])?.count == 4, "\(stillValid.text)")
        // The audit log names the station's credential for the run and each revocation.
        let audit = try await node.call("GET", "/v1/audit?limit=1000")
        let entries = (audit.json["entries"] as? [[String: Any]]) ?? []
        let runs = entries.filter { $0["action"] as? String == "action.run" }
        #expect(
            runs.map { $0["outcome"] as? String ?? "" } == [
                "success: 3 revoked", "success: 0 revoked", "refused: 4 certificates match, more than 3",
            ],
            "\(runs)"
        )
        let actor = try #require(runs.first?["actor"] as? String)
        #expect(
            actor.hasPrefix("credential/")
                && entries.filter { $0["action"] as? String == "certificate.revoke" && $0["actor"] as? String == actor }
                    .count == 3
        )
        #expect(try await node.stop() == 0)
    }
}
