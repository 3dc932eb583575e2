import CustosTestSupport

/// What every enrollment test asks of a certificate a client received: that it verifies with
/// `openssl verify` against the CA, and what pkilint finds in it.
enum IssuedCertificateChecks {
    /// `openssl verify` of `<name>.pem` against `ca.pem` in `directory`.
    static func verify(_ name: String, in directory: String) throws -> Bool {
        let result = try runCommand(
            "openssl",
            ["verify", "-CAfile", "ca.pem", "\(name).pem"],
            currentDirectory: directory
        )
        return result.status == 0 && result.stdout.contains("\(name).pem: OK")
    }

    /// pkilint's findings (warnings and worse) on `<name>.pem` in `directory`.
    static func lint(_ name: String, in directory: String) throws -> [String] {
        let lint = try runCommand(
            "lint_pkix_cert",
            ["lint", "-s", "WARNING", "-f", "CSV", "\(name).pem"],
            currentDirectory: directory
        )
        return lint.stdout.split(separator: "\n").dropFirst().map(String.init)
    }
}
