import CustosTestSupport
import Foundation

/// CMP messages made by OpenSSL's own client against its built-in mock server (`openssl cmp
/// -use_mock_srv`), saved with `-reqout`/`-rspout`: the requests and answers every test reads.
struct OpenSSLMessages {
    let directory: String
    let secret = "mac-secret-1"

    init() throws {
        directory = NSTemporaryDirectory() + "cmp-openssl-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"])
        try openssl(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Mock CA", "-days", "30", "-out", "ca.pem"])
        try openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "device.key"])
        try openssl(["req", "-new", "-key", "device.key", "-subj", "/CN=device-1", "-out", "device.csr"])
        try openssl([
            "x509", "-req", "-in", "device.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "10", "-out",
            "device.pem",
        ])
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    @discardableResult
    func openssl(_ arguments: [String]) throws -> CommandResult {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        guard result.status == 0 else { throw OpenSSLFailure(arguments: arguments, stderr: result.stderr) }
        return result
    }

    /// Runs one transaction of `command` against the mock server; requests go to `<name>-req<n>.der`,
    /// answers to `<name>-rsp<n>.der`.
    func transaction(_ name: String, client: [String], server: [String] = [], messages: Int = 2) throws {
        let requests = (1...messages).map { "\(name)-req\($0).der" }.joined(separator: ",")
        let responses = (1...messages).map { "\(name)-rsp\($0).der" }.joined(separator: ",")
        try openssl(
            ["cmp", "-use_mock_srv", "-rsp_cert", "device.pem", "-recipient", "/CN=Mock CA", "-certout", "out.pem"]
                + server + client
                + ["-reqout", requests, "-rspout", responses]
        )
    }

    /// An ir protected with PasswordBasedMac under `secret`, and its ip/certConf/pkiConf.
    func macIR() throws {
        try transaction(
            "ir",
            client: [
                "-cmd", "ir", "-ref", "device-ref", "-secret", "pass:" + secret, "-newkey", "device.key",
                "-subject", "/CN=device-1", "-sans", "device-1.example",
            ],
            server: ["-srv_ref", "ca-ref", "-srv_secret", "pass:" + secret]
        )
    }
}

struct OpenSSLFailure: Error, CustomStringConvertible {
    let arguments: [String]
    let stderr: String
    var description: String { "openssl \(arguments.joined(separator: " ")) failed: \(stderr)" }
}
