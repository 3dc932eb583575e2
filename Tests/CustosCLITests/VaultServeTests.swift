import CustosTestSupport
import Foundation
import Testing

/// Vault secrets survive a restart of `custos serve` (the KEK stays on the token, the ciphertext in
/// the store) and the store file never holds a value.
@Suite struct VaultServeTests {
    @Test func secretsRoundTripThroughAServerRestart() async throws {
        let directory = try makeTemporaryDirectory("vault-serve")
        let marker = "restart-survivor-" + UUID().uuidString

        func serve() async throws -> (ServeProcess, String, String) {
            let process = try ServeProcess(["--port", "0"], directory: directory)
            #expect(try await process.waitFor("press Ctrl-C to stop"), "\(process.text)")
            let port = try #require(
                process.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber }
            )
            let admin = try String(contentsOfFile: "\(directory)/.custos/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return (process, String(port), admin)
        }
        func curl(_ port: String, _ admin: String, _ arguments: [String]) throws -> String {
            try runCommand(
                "curl",
                ["-s", "-H", "Authorization: Bearer \(admin)", "-H", "Content-Type: application/json"]
                    + arguments
                    .map { $0.replacingOccurrences(of: "BASE", with: "http://127.0.0.1:\(port)") }
            ).stdout
        }

        let (first, port, admin) = try await serve()
        let created = try curl(port, admin, ["-d", #"{"name":"line-7"}"#, "BASE/v1/vault"])
        #expect(created.contains(#""currentKEKVersion":1"#), "\(created)")
        let written = try curl(
            port,
            admin,
            ["-X", "PUT", "-d", #"{"text":"\#(marker)"}"#, "BASE/v1/vault/line-7/secrets/wifi/psk"]
        )
        #expect(written.contains(#""version":1"#), "\(written)")
        #expect(try await first.stop(SIGTERM) == 0)

        let (second, port2, admin2) = try await serve()
        let read = try curl(port2, admin2, ["BASE/v1/vault/line-7/secrets/wifi/psk"])
        #expect(read.contains(#""text":"\#(marker)""#), "\(read)")
        #expect(try await second.stop(SIGTERM) == 0)

        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/.custos/store/data.mdb"))
        #expect(data.range(of: Data(marker.utf8)) == nil, "the value is in the store file")
        #expect(!first.text.contains(marker) && !second.text.contains(marker), "the value is in the logs")
    }
}
