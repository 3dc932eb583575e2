import CustosTestSupport
import Foundation
import Testing

/// CUSTOS-MIB through Debian's snmpd as AgentX master: `snmpget`, `snmpwalk` and `snmpbulkwalk`
/// read what `custos serve` registers, every object the MIB file in `docs/` names (and only those),
/// sets are refused, traps of an `snmp` channel reach `snmptrapd`, and the subagent registers again
/// after snmpd restarts.
@Suite(.serialized) struct SNMPTests {
    /// snmpd (AgentX master on TCP, SNMP on UDP, traps to snmptrapd) and snmptrapd, as the daemons they
    /// are (they close every inherited descriptor, which Foundation's `Process` takes for an exit): started
    /// through `runClient`, found again by their pid files.
    final class Agents: @unchecked Sendable {
        let directory: String
        let ports: (snmp: Int, agentx: Int, traps: Int)

        init() async throws {
            directory = try makeTemporaryDirectory("snmp")
            ports = (try freeLoopbackPort(), try freeLoopbackPort(), try freeLoopbackPort())
            try """
            agentAddress udp:127.0.0.1:\(ports.snmp)
            rocommunity public 127.0.0.1
            master agentx
            agentXSocket tcp:127.0.0.1:\(ports.agentx)
            trap2sink 127.0.0.1:\(ports.traps) public

            """.write(toFile: "\(directory)/snmpd.conf", atomically: true, encoding: .utf8)
            try "disableAuthorization yes\n".write(
                toFile: "\(directory)/snmptrapd.conf",
                atomically: true,
                encoding: .utf8
            )
            let trapd = try await runClient(
                "/usr/sbin/snmptrapd",
                [
                    "-C", "-c", "\(directory)/snmptrapd.conf", "-M", "/nonexistent", "-Lf", "\(directory)/traps.log",
                    "-On", "-p", "\(directory)/snmptrapd.pid", "udp:127.0.0.1:\(ports.traps)",
                ]
            )
            guard trapd.status == 0 else { throw TestSupportError("snmptrapd: \(trapd.stderr)") }
            try await startSNMPD()
        }

        func startSNMPD() async throws {
            let started = try await runClient(
                "/usr/sbin/snmpd",
                [
                    "-C", "-c", "\(directory)/snmpd.conf", "-M", "/nonexistent", "-Lf", "\(directory)/snmpd.log", "-p",
                    "\(directory)/snmpd.pid",
                ]
            )
            guard started.status == 0 else { throw TestSupportError("snmpd: \(started.stderr)") }
        }

        func pid(_ name: String) -> Int32? {
            (try? String(contentsOfFile: "\(directory)/\(name).pid", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }

        /// SIGTERM, then waits until the process is gone.
        func stop(_ name: String) async {
            guard let pid = pid(name) else { return }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(50)) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            unlink("\(directory)/\(name).pid")
        }

        func stop() async {
            await stop("snmpd")
            await stop("snmptrapd")
        }

        /// `command` (snmpget, snmpwalk, …) with numeric output and no MIB files.
        func snmp(_ command: String, _ arguments: [String]) async throws -> CommandResult {
            try await runClient(
                command,
                ["-v2c", "-c", "public", "-On", "-M", "/nonexistent", "-t", "2", "-r", "1", "127.0.0.1:\(ports.snmp)"]
                    + arguments
            )
        }

        /// OID → value text, from lines like `.1.3.6.1.4.1.32473.1.1.1.0 = INTEGER: 1`.
        func values(_ output: String) -> [String: String] {
            var values: [String: String] = [:]
            for line in output.split(separator: "\n") {
                let parts = line.split(separator: " = ", maxSplits: 1).map(String.init)
                if parts.count == 2 { values[String(parts[0].dropFirst())] = parts[1] }
            }
            return values
        }

        var traps: String { (try? String(contentsOfFile: "\(directory)/traps.log", encoding: .utf8)) ?? "" }
    }

    /// Every object the MIB file defines as readable, by instance OID (its `::= { parent n }` assignments
    /// resolved, in whatever order the file has them).
    static func readableObjectsOfTheMIBFile() throws -> [String: String] {
        let text = try String(contentsOfFile: "\(repositoryRoot)/docs/CUSTOS-MIB.txt", encoding: .utf8)
        var assignments: [(name: String, parent: String, number: String, readable: Bool)] = []
        var pending: (name: String, kind: String, access: String?)?
        for raw in text.split(separator: "\n") {
            let line = raw.components(separatedBy: "--").first?.trimmingCharacters(in: .whitespaces) ?? ""
            let words = line.split(separator: " ").map(String.init)
            let kinds = ["OBJECT-TYPE", "MODULE-IDENTITY", "NOTIFICATION-TYPE", "OBJECT-GROUP", "NOTIFICATION-GROUP"]
            if words.count >= 2, kinds.contains(words[1]) { pending = (words[0], words[1], nil) }
            if words.first == "MAX-ACCESS", words.count > 1 { pending?.access = words[1] }
            guard let assignment = line.range(of: "::= {") else { continue }
            let inside =
                line[assignment.upperBound...].split(separator: "}").first?.split(separator: " ").map(String.init) ?? []
            guard let name = line.hasPrefix("::=") ? pending?.name : words.first, inside.count == 2 else { continue }
            let readable = pending?.name == name && pending?.kind == "OBJECT-TYPE" && pending?.access == "read-only"
            assignments.append((name, inside[0], inside[1], readable))
            pending = nil
        }
        var oids = ["enterprises": "1.3.6.1.4.1"]
        while true {
            let resolvable = assignments.filter { oids[$0.name] == nil && oids[$0.parent] != nil }
            if resolvable.isEmpty { break }
            for item in resolvable { oids[item.name] = "\(oids[item.parent]!).\(item.number)" }
        }
        var readable: [String: String] = [:]
        for item in assignments where item.readable {
            if let oid = oids[item.name] { readable[oid + ".0"] = item.name }
        }
        return readable
    }

    @Test func theMIBIsServedThroughSNMPDAndTrapsReachSNMPTrapd() async throws {
        let agents = try await Agents()
        // Should an expectation throw first: no daemon is left behind.
        defer { for name in ["snmpd", "snmptrapd"] { if let pid = agents.pid(name) { kill(pid, SIGKILL) } } }
        let directory = try makeTemporaryDirectory("custos-snmp")
        try "snmp:\n  agentx: tcp:127.0.0.1:\(agents.ports.agentx)\nnotifications:\n  firstRetrySeconds: 1\n".write(
            toFile: "\(directory)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let node = try ClusterNode(embeddedIn: directory, extra: ["--config", "custos.yaml"])
        try await node.started()
        #expect(
            try await NotificationTestSupport.eventually {
                node.process.text.contains("AgentX: registered 1.3.6.1.4.1.32473.1")
            },
            "\(node.process.text.suffix(2000))"
        )
        _ = try await node.makeCA("line")
        let first = try await node.issue(ca: "line", name: "first")
        _ = try await node.issue(ca: "line", name: "second")
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(first.serial)/revoke", ["reason": "superseded"])
                .status == 200
        )
        // A CRL in time is not overdue.
        let crl = try await node.call("POST", "/v1/cas/line/crl")
        #expect((200..<300).contains(crl.status), "\(crl.text)")

        // A walk returns exactly the MIB file's readable objects, in order, with their types.
        let mib = try Self.readableObjectsOfTheMIBFile()
        #expect(mib.count == 21, "\(mib)")
        let root = "1.3.6.1.4.1.32473.1"
        var walked: [String: String] = [:]
        // The certificate counts are recounted in the background (at most 30 s old): wait for the issuance.
        #expect(
            try await NotificationTestSupport.eventually(45) {
                walked = agents.values(try await agents.snmp("snmpwalk", [root]).stdout)
                return walked["\(root).3.2.0"] == "Gauge32: 1"
            },
            "\(walked)"
        )
        #expect(Set(walked.keys) == Set(mib.keys), "served \(walked.keys.sorted()), the MIB has \(mib.keys.sorted())")
        #expect(walked["\(root).1.1.0"] == "INTEGER: 1" && walked["\(root).1.3.0"] == "STRING: \"Custos\"")
        #expect(walked["\(root).2.6.0"] == "STRING: \"custos-dev\"", "\(walked)")
        #expect((walked["\(root).2.1.0"] ?? "").hasPrefix("Gauge32: ") && walked["\(root).2.1.0"] != "Gauge32: 0")
        #expect((walked["\(root).2.4.0"] ?? "").hasPrefix("Counter64: "))
        // Valid: the CA's own certificate and the second; revoked: the first.
        #expect(walked["\(root).3.1.0"] == "Gauge32: 2" && walked["\(root).3.2.0"] == "Gauge32: 1", "\(walked)")
        #expect(walked["\(root).5.1.0"] == "INTEGER: -1" && walked["\(root).4.1.0"] == "Gauge32: 0")
        #expect((walked["\(root).6.3.0"] ?? "").hasPrefix("Gauge32: ") && walked["\(root).6.3.0"] != "Gauge32: 0")

        // Get, GetBulk, an object that is not there, and a set.
        let got = agents.values(
            try await agents.snmp("snmpget", ["\(root).2.6.0", "\(root).1.1.0", "\(root).2.99.0"]).stdout
        )
        #expect(got["\(root).2.6.0"] == "STRING: \"custos-dev\"" && got["\(root).1.1.0"] == "INTEGER: 1")
        #expect((got["\(root).2.99.0"] ?? "").contains("No Such Object"), "\(got)")
        let bulk = agents.values(try await agents.snmp("snmpbulkwalk", ["-Cr3", root]).stdout)
        #expect(bulk.keys.sorted() == walked.keys.sorted())
        let set = try await agents.snmp("snmpset", ["\(root).1.3.0", "s", "changed"])
        #expect(set.status != 0 && (set.stdout + set.stderr).contains("noAccess"), "\(set.stdout) \(set.stderr)")

        // Traps: a rule with an snmp channel.
        #expect(try await node.call("PUT", "/v1/notification-channels/traps", ["snmp": true]).status == 200)
        #expect(
            try await node.call(
                "PUT",
                "/v1/notification-rules/revocations",
                ["channel": "traps", "events": ["certificate.revoke"]]
            ).status == 200
        )
        let second = try await node.issue(ca: "line", name: "third")
        #expect(
            try await node.call(
                "POST",
                "/v1/cas/line/certificates/\(second.serial)/revoke",
                ["reason": "keyCompromise"]
            ).status == 200
        )
        #expect(
            try await NotificationTestSupport.eventually { agents.traps.contains(second.serial) },
            "\(agents.traps)"
        )
        let trap = try #require(agents.traps.split(separator: "\n").first { $0.contains(second.serial) })
        #expect(trap.contains(".1.3.6.1.6.3.1.1.4.1.0 = OID: .\(root).0.1"), "\(trap)")
        #expect(trap.contains(".\(root).8.1.0 = STRING: \"certificate.revoke\""), "\(trap)")
        let notification = try #require(
            try await NotificationTestSupport.notification(node, rule: "revocations", subjectContaining: second.serial)
        )
        #expect(trap.contains(".\(root).8.3.0 = STRING: \"\(notification["id"] as? String ?? "?")\""), "\(trap)")

        // snmpd goes away and comes back: the subagent registers again; a trap meanwhile waits and arrives.
        await agents.stop("snmpd")
        let fourth = try await node.issue(ca: "line", name: "fourth")
        #expect(
            try await node.call("POST", "/v1/cas/line/certificates/\(fourth.serial)/revoke", ["reason": "superseded"])
                .status == 200
        )
        #expect(
            try await NotificationTestSupport.eventually {
                (try await NotificationTestSupport.notification(
                    node,
                    rule: "revocations",
                    subjectContaining: fourth.serial
                )?["lastError"]
                    as? String) != nil
            }
        )
        try await agents.startSNMPD()
        #expect(
            try await NotificationTestSupport.eventually { agents.traps.contains(fourth.serial) },
            "\(agents.traps)"
        )
        let again = agents.values(try await agents.snmp("snmpget", ["\(root).1.1.0"]).stdout)
        #expect(again["\(root).1.1.0"] == "INTEGER: 1", "\(again)")
        #expect(try await node.stop() == 0)
        await agents.stop()
    }

    @Test func aBadAgentXAddressIsRefusedAtStart() async throws {
        let directory = try makeTemporaryDirectory("custos-snmp-bad")
        for value in ["udp:127.0.0.1:705", "tcp:127.0.0.1", "relative/path"] {
            try "snmp:\n  agentx: \(value)\n".write(
                toFile: "\(directory)/custos.yaml",
                atomically: true,
                encoding: .utf8
            )
            let result = try await custosClient([
                "serve", "--port", "0", "--config", "\(directory)/custos.yaml", "--data-dir", "\(directory)/.custos",
            ])
            #expect(
                result.status != 0
                    && (result.stderr + result.stdout).contains(
                        "snmp.agentx must be tcp:host:port or a Unix socket path"
                    ),
                "\(value): \(result.stderr)"
            )
        }
    }
}
