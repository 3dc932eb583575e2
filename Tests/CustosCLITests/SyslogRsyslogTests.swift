import CustosTestSupport
import Foundation
import Testing

/// Operational logs and audit entries to Debian's rsyslog as RFC 5424 over UDP, TCP (octet counting)
/// and TLS (RFC 5425, the collector's CA from `syslog.caFile`): rsyslog's own parser reads each field
/// back (the comparison for Custos' encoder), and a collector that is away does not hold up the server.
@Suite(.serialized) struct SyslogRsyslogTests {
    /// rsyslogd in the foreground with one input per transport, each written to its own file as
    /// `facility|severity|app|procid|msgid|structured-data|msg`.
    final class Rsyslog: @unchecked Sendable {
        let directory: String
        let ports: (udp: Int, tcp: Int, tls: Int)
        let process = Process()

        init() async throws {
            directory = try makeTemporaryDirectory("rsyslog")
            ports = (try freeLoopbackPort(), try freeLoopbackPort(), try freeLoopbackPort())
            // A CA and the collector's certificate for localhost.
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
                toFile: "\(directory)/san.cnf",
                atomically: true,
                encoding: .utf8
            )
            for command in [
                "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=Syslog-Test-CA",
                "req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr -subj /CN=localhost",
                "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.cnf",
            ] {
                let result = try await runClient(
                    "openssl",
                    command.split(separator: " ").map(String.init),
                    currentDirectory: directory
                )
                guard result.status == 0 else { throw RsyslogFailure("openssl \(command): \(result.stderr)") }
            }
            let configuration = """
                global(workDirectory="\(directory)" defaultNetstreamDriverCAFile="\(directory)/ca.pem"
                       defaultNetstreamDriverCertFile="\(directory)/server.pem"
                       defaultNetstreamDriverKeyFile="\(directory)/server.key")
                module(load="imudp")
                module(load="imtcp")
                template(name="fields" type="string"
                         string="%syslogfacility-text%|%syslogseverity-text%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\\n")
                input(type="imudp" address="127.0.0.1" port="\(ports.udp)" ruleset="udp")
                input(type="imtcp" address="127.0.0.1" port="\(ports.tcp)" ruleset="tcp")
                input(type="imtcp" address="127.0.0.1" port="\(ports.tls)" ruleset="tls" streamDriver.name="gtls"
                      streamDriver.mode="1" streamDriver.authMode="anon")
                ruleset(name="udp") { action(type="omfile" file="\(directory)/udp.log" template="fields") }
                ruleset(name="tcp") { action(type="omfile" file="\(directory)/tcp.log" template="fields") }
                ruleset(name="tls") { action(type="omfile" file="\(directory)/tls.log" template="fields") }

                """
            try configuration.write(toFile: "\(directory)/rsyslog.conf", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/rsyslogd")
            process.arguments = ["-n", "-f", "\(directory)/rsyslog.conf", "-i", "\(directory)/rsyslog.pid"]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            let errors = FileManager.default.createFile(atPath: "\(directory)/rsyslogd.err", contents: nil)
            if errors { process.standardError = FileHandle(forWritingAtPath: "\(directory)/rsyslogd.err") }
            try process.run()
        }

        /// The lines rsyslog wrote for `transport` once one contains `marker` (up to 20 s).
        func lines(_ transport: String, containing marker: String) async throws -> [String] {
            for _ in 0..<200 {
                let text = (try? String(contentsOfFile: "\(directory)/\(transport).log", encoding: .utf8)) ?? ""
                if text.contains(marker) { return text.split(separator: "\n").map(String.init) }
                try await Task.sleep(for: .milliseconds(100))
            }
            let errors = (try? String(contentsOfFile: "\(directory)/rsyslogd.err", encoding: .utf8)) ?? ""
            throw RsyslogFailure("rsyslog wrote no \(transport) line with \(marker); rsyslogd: \(errors)")
        }

        /// SIGTERM, then waits (off the cooperative pool's threads: polling, not `waitUntilExit`).
        func stop() async {
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    @Test func logsAndAuditEntriesReachRsyslogOverUDPTCPAndTLS() async throws {
        let rsyslog = try await Rsyslog()
        // Should an expectation throw first: no collector is left behind.
        defer { if rsyslog.process.isRunning { kill(rsyslog.process.processIdentifier, SIGKILL) } }
        for (transport, port) in [("udp", rsyslog.ports.udp), ("tcp", rsyslog.ports.tcp), ("tls", rsyslog.ports.tls)] {
            let directory = try makeTemporaryDirectory("custos-syslog-\(transport)")
            let host = transport == "tls" ? "localhost" : "127.0.0.1"
            var yaml = "syslog:\n  url: \(transport)://\(host):\(port)\n  level: info\n  facility: local3\n"
            if transport == "tls" { yaml += "  caFile: \(rsyslog.directory)/ca.pem\n" }
            try yaml.write(toFile: "\(directory)/custos.yaml", atomically: true, encoding: .utf8)
            let serve = try ServeProcess(["--port", "0", "--config", "custos.yaml"], directory: directory)
            #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
            let port = try #require(
                serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber }
            )
            let admin = try String(contentsOfFile: "\(directory)/.custos/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            // An audit entry (a CA made through the API) and an operational error log (a request that fails
            // inside: a CA whose parent does not exist is a 4xx, so use a bad JSON body for a warning).
            let created = try await runClient(
                "curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(admin)", "-H",
                    "Content-Type: application/json", "--data",
                    #"{"id":"line-\#(transport)","subject":"CN=Line","algorithm":"ec-p256"}"#,
                    "http://127.0.0.1:\(port)/v1/cas",
                ]
            )
            #expect(created.stdout == "201", "\(created.stdout) \(created.stderr)")
            let lines = try await rsyslog.lines(transport, containing: "ca.create")
            let pid = String(serve.process.processIdentifier)
            // The audit entry: authpriv, notice, MSGID the action, the entry's fields as structured data.
            let audit = try #require(lines.first { $0.contains("|ca.create|") }, "\(lines)")
            let fields = audit.split(separator: "|", maxSplits: 6).map(String.init)
            #expect(fields.count == 7 && fields[0] == "authpriv" && fields[1] == "notice", "\(audit)")
            #expect(fields[2] == "custos" && fields[3] == pid, "\(audit)")
            #expect(
                fields[5].hasPrefix("[custos@32473 seq=") && fields[5].contains("object=\"ca/line-\(transport)\""),
                "\(audit)"
            )
            // Operational logs: the configured facility, the logger's label as MSGID, info and above only.
            let operational = lines.filter { $0.hasPrefix("local3|") }
            #expect(!operational.isEmpty, "no operational log arrived over \(transport): \(lines)")
            for line in operational {
                let parts = line.split(separator: "|", maxSplits: 6).map(String.init)
                #expect(["info", "notice", "warning", "err", "crit"].contains(parts[1]), "\(line)")
                #expect(parts[2] == "custos" && parts[3] == pid && !parts[4].isEmpty && parts[4] != "-", "\(line)")
            }
            // /metrics counts what was sent to the collector, and nothing dropped.
            let metrics = try await runClient(
                "curl",
                ["-s", "-H", "Authorization: Bearer \(admin)", "http://127.0.0.1:\(port)/metrics"]
            ).stdout
            let sent = metrics.split(separator: "\n").first {
                $0.hasPrefix("custos_syslog_messages_sent{destination=\"\(transport)://\(host):")
            }
            #expect(
                sent.map { !$0.hasSuffix(" 0") } == true,
                "\(metrics.split(separator: "\n").filter { $0.contains("syslog") })"
            )
            #expect(metrics.contains("custos_syslog_messages_dropped{"), "\(metrics.prefix(300))")
            #expect(try await serve.stop() == 0)
        }
        // A collector that is away: the server starts and answers all the same.
        let directory = try makeTemporaryDirectory("custos-syslog-away")
        let away = try freeLoopbackPort()
        try "syslog:\n  url: tcp://127.0.0.1:\(away)\n".write(
            toFile: "\(directory)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let serve = try ServeProcess(["--port", "0", "--config", "custos.yaml"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let health = try await runClient("curl", ["-s", "http://127.0.0.1:\(port)/v1/health"])
        #expect(health.stdout.contains("alive"), "\(health.stdout)")
        #expect(try await serve.stop() == 0)
        await rsyslog.stop()
    }

    @Test func badSyslogSettingsAreRefusedAtStart() async throws {
        let directory = try makeTemporaryDirectory("custos-syslog-bad")
        for (yaml, message) in [
            ("syslog:\n  url: smtp://x\n", "syslog.url must be udp://, tcp:// or tls://"),
            ("syslog:\n  url: udp://x:99999\n", "syslog.url must be"),
            ("syslog:\n  level: info\n", "syslog needs url"),
            ("syslog:\n  url: tcp://x\n  caFile: /etc/hostname\n", "syslog.caFile applies to tls:// only"),
            ("syslog:\n  url: tls://x\n  caFile: /nonexistent.pem\n", "cannot be read"),
            ("syslog:\n  url: udp://x\n  facility: mail\n", "syslog.facility must be daemon or local0 to local7"),
            ("syslog:\n  url: udp://x\n  level: loud\n", "syslog.level must be"),
        ] {
            try yaml.write(toFile: "\(directory)/custos.yaml", atomically: true, encoding: .utf8)
            let result = try await custosClient([
                "serve", "--port", "0", "--config", "\(directory)/custos.yaml", "--data-dir", "\(directory)/.custos",
            ])
            #expect(
                result.status != 0 && (result.stderr + result.stdout).contains(message),
                "\(yaml): \(result.stderr)"
            )
        }
    }
}

struct RsyslogFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
