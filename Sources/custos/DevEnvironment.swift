import Foundation
import HSM
import PKCS11

/// The embedded development default under `./.custos/`: a SoftHSM2 configuration and token
/// directory, a token labelled `custos-dev`, and generated SO and user PINs in files only the owner
/// can read. Created on first start, reused afterwards.
struct DevEnvironment {
    static let tokenLabel = "custos-dev"

    let dataDirectory: String
    var configPath: String { "\(dataDirectory)/softhsm2.conf" }
    var tokenDirectory: String { "\(dataDirectory)/tokens" }
    var soPINPath: String { "\(dataDirectory)/so.pin" }
    var userPINPath: String { "\(dataDirectory)/user.pin" }

    /// Creates what is missing and points SoftHSM2 at this directory. Returns lines to tell the operator.
    func prepare(modulePath: String) throws -> [String] {
        var report: [String] = []
        let files = FileManager.default
        try files.createDirectory(
            atPath: tokenDirectory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory)
        if !files.fileExists(atPath: configPath) {
            let config =
                "directories.tokendir = \(absolute(tokenDirectory))\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
            try writeSecretFile(configPath, config)
            report.append("created SoftHSM2 configuration \(configPath)")
        }
        setenv("SOFTHSM2_CONF", absolute(configPath), 1)

        // Before the token exists there is no HSM RNG to ask: these PINs come from the OS generator.
        for path in [soPINPath, userPINPath] where !files.fileExists(atPath: path) {
            try writeSecretFile(path, Self.randomPIN() + "\n")
            report.append("generated PIN \(path) (mode 0600)")
        }
        let soPIN = try PINSource.file(soPINPath).read()
        let userPIN = try PINSource.file(userPINPath).read()

        let module = try Module.load(path: modulePath)
        if (try? module.slot(tokenLabel: Self.tokenLabel)) == nil {
            _ = try module.initializeFreeToken(label: Self.tokenLabel, soPIN: soPIN, userPIN: userPIN)
            report.append("created token \"\(Self.tokenLabel)\" in \(tokenDirectory)")
        } else {
            report.append("reusing token \"\(Self.tokenLabel)\" in \(tokenDirectory)")
        }
        report.append("SO PIN in \(soPINPath), user PIN in \(userPINPath)")
        return report
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    private static func randomPIN() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
