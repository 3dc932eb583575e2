import Codecs
import Foundation

/// A certificate request made by openssl, as a device or server would make it.
public enum OpenSSLRequests {
    /// Why openssl could not make the request.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A PKCS#10 request (DER) for a fresh P-256 key made by `openssl req` in `directory`; the key is left
    /// in `<name>.key` and the PEM request in `<name>.csr`.
    public static func p256(in directory: String, name: String, subject: String) throws -> [UInt8] {
        let path = "\(directory)/\(name).csr"
        let made = try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(directory)/\(name).key", "-subj", subject, "-out", path,
            ]
        )
        guard made.status == 0 else { throw Failure(description: "openssl req: \(made.stderr)") }
        return try PEM.block(try String(contentsOfFile: path, encoding: .utf8)).der
    }
}
