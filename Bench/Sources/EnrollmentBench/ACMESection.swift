import Foundation

/// The ACME section's helpers beside the server: pebble-challtestsrv as DNS for both ACME servers
/// (every name is 127.0.0.1), the http-01 responder, and pebble, the peer.
struct ACMEPeers {
    let challtestsrv: Process
    let dnsPort: Int
    let responder: ChallengeResponder

    static func freePort() throws -> Int {
        let text = try run(
            "python3",
            ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]
        )
        guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failure("no free port")
        }
        return port
    }

    static func start() throws -> ACMEPeers {
        let dnsPort = try freePort()
        let challtestsrv = Process()
        challtestsrv.executableURL = URL(fileURLWithPath: try which("pebble-challtestsrv"))
        challtestsrv.arguments = [
            "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "", "-https01", "", "-tlsalpn01", "", "-management",
            "127.0.0.1:\(try freePort())", "-defaultIPv6", "",
        ]
        challtestsrv.standardOutput = FileHandle.nullDevice
        challtestsrv.standardError = FileHandle.nullDevice
        try challtestsrv.run()
        return ACMEPeers(challtestsrv: challtestsrv, dnsPort: dnsPort, responder: try ChallengeResponder())
    }

    /// Starts pebble (no sleeps before validation, no nonces rejected at random, as the load needs) with
    /// its http-01 checks on the responder; its port.
    func startPebble(in directory: String) throws -> (Process, Int) {
        try run(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "pebble.key", "-out", "pebble.pem", "-subj", "/CN=localhost", "-days", "2", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ]
        )
        let port = try Self.freePort()
        let configuration: [String: Any] = [
            "pebble": [
                "listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(try Self.freePort())",
                "certificate": "\(directory)/pebble.pem", "privateKey": "\(directory)/pebble.key",
                "httpPort": responder.port, "tlsPort": try Self.freePort(), "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
            ]
        ]
        try JSONSerialization.data(withJSONObject: configuration).write(
            to: URL(fileURLWithPath: "\(directory)/pebble.json")
        )
        let pebble = Process()
        pebble.executableURL = URL(fileURLWithPath: try which("pebble"))
        pebble.arguments = ["-config", "\(directory)/pebble.json", "-dnsserver", "127.0.0.1:\(dnsPort)"]
        var environment = ProcessInfo.processInfo.environment
        environment["PEBBLE_VA_NOSLEEP"] = "1"
        environment["PEBBLE_WFE_NONCEREJECT"] = "0"
        pebble.environment = environment
        pebble.standardOutput = FileHandle.nullDevice
        pebble.standardError = FileHandle.nullDevice
        try pebble.run()
        for _ in 0..<100 {
            if (try? run("curl", ["-sk", "--fail", "https://127.0.0.1:\(port)/dir"])) != nil { return (pebble, port) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Failure("pebble did not start")
    }

    func stop() {
        kill(challtestsrv.processIdentifier, SIGKILL)
    }
}

/// Complete orders per second of `accounts` clients against the ACME server at `port`, for `seconds`,
/// and the JWS requests per order.
func acmeOrdersPerSecond(port: Int, directoryPath: String, accounts: Int, seconds: Int, responder: ChallengeResponder)
    async throws -> (rate: Double, requestsPerOrder: Double)
{
    let start = ContinuousClock.now
    let deadline = start + .seconds(seconds)
    let (completed, requests) = try await withThrowingTaskGroup(of: (orders: Int, requests: Int).self) { group in
        for index in 0..<accounts {
            group.addTask {
                try await BenchACMEClient(
                    directoryPath: directoryPath,
                    port: port,
                    index: index + Int.random(in: 0..<1_000_000) * 1000,
                    responder: responder,
                    pollInterval: .milliseconds(50)
                ).run(until: deadline)
            }
        }
        return try await group.reduce((0, 0)) { ($0.0 + $1.orders, $0.1 + $1.requests) }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(completed) / seconds, Double(requests) / Double(max(1, completed)))
}
