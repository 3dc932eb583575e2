import CustosTestSupport
import Foundation
import Server
import Testing

/// One host that opens connections by the thousand and holds them silent, half-sent or idle does not
/// stop the service for others: its connections beyond its share are closed at once, the rest when
/// their header, body or idle time runs out, and health, OCSP and signing keep answering meanwhile.
@Suite(.serialized, .stopsServers) struct SlowClientTests {
    @Test func slowSilentAndIdleConnectionsAreClosedAndOthersAreServed() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.connections.headerTimeout = .seconds(3)
        configuration.connections.bodyTimeout = .seconds(3)
        configuration.connections.idleTimeout = .seconds(4)
        configuration.connections.maxConnectionsPerClient = 400
        let server = try await ServerFixture(configuration: configuration)
        try await server.createKey("busy-1", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["busy-*"])

        // Another host (127.0.0.2): 2,000 connections, of four kinds.
        let attacker = "127.0.0.2"
        var held: [(kind: String, connection: RawConnection)] = []
        let opening = ContinuousClock.now
        for index in 0..<2000 {
            let connection = try RawConnection(port: server.port, from: attacker)
            switch index % 4 {
            case 0: held.append(("silent", connection))
            case 1:
                connection.send("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                held.append(("half a head", connection))
            case 2:
                connection.send(
                    "POST /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"na"
                )
                held.append(("half a body", connection))
            default:
                connection.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                held.append(("idle after a request", connection))
            }
        }
        let openedIn = ContinuousClock.now - opening
        // Beyond its share, closed at once (as the first ones time out, later ones take their places).
        func metric(_ name: String) async throws -> Double {
            let metrics = try await server.request("GET", "/metrics", token: server.adminToken)
            let line = metrics.text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        var refused = try await metric("custos_connections_refused")
        // The server accepts (and closes) the surplus as fast as it can; give it a moment.
        for _ in 0..<20 where refused < 2000 - 400 {
            try await Task.sleep(for: .milliseconds(100))
            refused = try await metric("custos_connections_refused")
        }
        let open = try await metric("custos_connections_open")
        #expect(open <= 400 + 2, "\(open) connections open")
        // How many were refused rather than admitted and timed out depends on how fast this machine
        // opened them (as the first time out, later ones take their places); never more than the share.
        #expect(refused > 0, "none of 2,000 connections refused (opened in \(openedIn))")

        // Meanwhile others are served, promptly.
        let digest = Data(repeating: 7, count: 32).base64EncodedString()
        for _ in 0..<20 {
            let started = ContinuousClock.now
            let health = try await server.request("GET", "/v1/health", token: nil)
            let ocsp = try await server.request("GET", "/ocsp/MAMCAQA=", token: nil)
            let signed = try await server.request(
                "POST",
                "/v1/keys/busy-1/sign",
                token: signer,
                json: ["digest": digest]
            )
            #expect(health.status == 200 && ocsp.status == 200 && signed.status == 200, "\(signed.text)")
            #expect(ContinuousClock.now - started < .seconds(5), "answers took \(ContinuousClock.now - started)")
        }

        // Within the timeouts (3 s for heads and bodies, 4 s idle) the server closes every one of them;
        // the half-sent requests are told why.
        for (kind, connection) in held {
            let (bytes, closed) = connection.receive(timeout: .seconds(8))
            #expect(closed, "a \(kind) connection is still open")
            let text = String(decoding: bytes, as: UTF8.self)
            if kind == "half a head" || kind == "half a body", !text.isEmpty {
                #expect(text.contains("408") && text.contains("request_timeout"), "\(kind): \(text.prefix(200))")
            }
        }
        let metrics = try await server.request("GET", "/metrics", token: server.adminToken)
        for part in ["header", "body", "idle"] {
            #expect(
                metrics.text.contains("custos_connections_timed_out{part=\"\(part)\"}"),
                "no \(part) timeouts counted"
            )
        }
        #expect(metrics.text.contains("custos_connections_refused"))
    }

    @Test func connectionLimitsComeFromTheConfigurationFile() throws {
        let directory = try makeTemporaryDirectory("custos-connections")
        let file = try writeFile(
            directory,
            "custos.yaml",
            Data(
                """
                connections: { headerTimeoutSeconds: 5, bodyTimeoutSeconds: 7, idleTimeoutSeconds: 20, max: 500, maxPerClient: 50 }
                audit: { refusalSummarySeconds: 15 }

                """.utf8
            )
        )
        let configuration = try ServerConfiguration.load(file: file, environment: [:])
        #expect(configuration.connections.headerTimeout == .seconds(5))
        #expect(configuration.connections.bodyTimeout == .seconds(7))
        #expect(configuration.connections.idleTimeout == .seconds(20))
        #expect(
            configuration.connections.maxConnections == 500 && configuration.connections.maxConnectionsPerClient == 50
        )
        #expect(configuration.refusalSummaryInterval == .seconds(15))
        let defaults = try ServerConfiguration.load(file: nil, environment: [:])
        #expect(defaults.connections.headerTimeout == .seconds(10) && defaults.connections.maxConnections == nil)
        for (text, message) in [
            ("connections: { headerTimeoutSeconds: 0 }", "connections.headerTimeoutSeconds must be an integer"),
            ("connections: { maxPerClient: many }", "connections.maxPerClient must be an integer"),
            ("connections: { slowloris: 1 }", "unknown key connections.slowloris"),
        ] {
            let bad = try writeFile(directory, "bad.yaml", Data((text + "\n").utf8))
            #expect { _ = try ServerConfiguration.load(file: bad, environment: [:]) } throws: {
                "\($0)".contains(message)
            }
        }
    }
}
