import CustosTestSupport
import Foundation

/// `pebble-challtestsrv` (Debian package `pebble`): a DNS server for test names (every A query answers
/// 127.0.0.1) that also serves TXT records, http-01 answers and tls-alpn-01 certificates set through its
/// management API. Custos' validator is pointed at its DNS port as resolver.
final class ChallengeTestServer: @unchecked Sendable {
    let dnsPort: Int
    let http01Port: Int
    let tlsALPN01Port: Int
    let managementPort: Int
    private let process: Process

    init() throws {
        dnsPort = try RawConnection.freePort()
        http01Port = try RawConnection.freePort()
        tlsALPN01Port = try RawConnection.freePort()
        managementPort = try RawConnection.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: try which("pebble-challtestsrv"))
        process.arguments = [
            "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "127.0.0.1:\(http01Port)", "-https01", "",
            "-tlsalpn01", "127.0.0.1:\(tlsALPN01Port)", "-management", "127.0.0.1:\(managementPort)",
            "-defaultIPv6", "",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if (try? manage("clear-txt", ["host": "ready.test."])) != nil { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw TestFailure("pebble-challtestsrv did not start")
    }

    /// A call of the management API.
    func manage(_ command: String, _ body: [String: Any]) throws {
        let data = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let result = try runCommand(
            "curl",
            ["-sf", "-X", "POST", "--data-binary", data, "http://127.0.0.1:\(managementPort)/\(command)"]
        )
        guard result.status == 0 else { throw TestFailure("challtestsrv \(command): \(result.stderr)") }
    }

    /// The dns-01 TXT record of `name` (`_acme-challenge.` is prepended).
    func setTXT(_ name: String, _ value: String) throws {
        try manage("set-txt", ["host": "_acme-challenge.\(name).", "value": value])
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
