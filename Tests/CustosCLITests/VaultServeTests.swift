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

    @Test func theVaultCLIReadsValuesFromStdinOrFilesAndNeverOverwrites() async throws {
        let directory = try makeTemporaryDirectory("vault-cli")
        let process = try ServeProcess(["--port", "0"], directory: directory)
        #expect(try await process.waitFor("press Ctrl-C to stop"), "\(process.text)")
        let port = try #require(
            process.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber }
        )
        let api = ["--url", "http://127.0.0.1:\(port)", "--token-file", "\(directory)/.custos/admin.token"]
        func vault(_ arguments: [String], input: Data? = nil) throws -> CommandResult {
            try custos(["vault"] + arguments + api, input: input)
        }
        let created = try vault(["create", "line-9", "--keep-versions", "3", "--allow-plaintext-export"])
        #expect(created.status == 0 && created.stdout.contains("\"currentKEKVersion\" : 1"), "\(created)")
        // A binary value from standard input, and one from a file.
        let binary = Data((0..<200).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let put = try vault(["put", "line-9", "certs/device.bin"], input: binary)
        #expect(put.status == 0 && put.stdout.contains("version 1, 200 bytes"), "\(put)")
        try Data("from a file\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/value.txt"))
        let fromFile = try vault(["put", "line-9", "certs/device.bin", "--file", "\(directory)/value.txt"])
        #expect(fromFile.status == 0 && fromFile.stdout.contains("version 2"), "\(fromFile)")
        // Read back to a new file (0600); an existing file is refused.
        let out = "\(directory)/read.bin"
        #expect(try vault(["get", "line-9", "certs/device.bin", "--version", "1", "--out", out]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == binary)
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try vault(["get", "line-9", "certs/device.bin", "--out", out])
        #expect(again.status != 0 && again.stderr.contains("never overwritten"), "\(again)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == binary, "the refused write changed the file")
        let latest = try vault(["get", "line-9", "certs/device.bin"])
        #expect(latest.stdout == "from a file\n")
        let listed = try vault(["secrets", "line-9"])
        #expect(listed.stdout.contains("certs/device.bin\tv2"), "\(listed)")
        // Keys: generated in the HSM, exported in plaintext where the namespace allows it.
        #expect(try vault(["key", "generate", "line-9", "door", "--type", "aes-128"]).status == 0)
        let keyFile = "\(directory)/door.key"
        #expect(try vault(["key", "export", "line-9", "door", "--plaintext", "--out", keyFile]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: keyFile)).count == 16)
        let pem = try vault(["key", "transport-key", "line-9", "--create"])
        #expect(pem.stdout.hasPrefix("-----BEGIN PUBLIC KEY-----"), "\(pem)")
        // Rotation with progress until done.
        let rotated = try vault(["rotate", "line-9", "--wait"])
        #expect(rotated.status == 0 && rotated.stdout.contains("done: every entry is under KEK v2"), "\(rotated)")
        #expect(try vault(["get", "line-9", "certs/device.bin", "--version", "1", "--out", out + ".2"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + ".2")) == binary)
        // Errors: the server's code and message, a non-zero exit.
        let missing = try vault(["get", "line-9", "nothing"])
        #expect(missing.status != 0 && missing.stderr.contains("unknown_secret"), "\(missing)")
        let both = try vault(["key", "export", "line-9", "door", "--plaintext", "--transport-key", "door"])
        #expect(both.status != 0 && both.stderr.contains("exactly one"), "\(both)")
        #expect(!process.text.contains("from a file"), "a value is in the logs")
        #expect(try await process.stop(SIGTERM) == 0)
    }
}
