import APIModels
import ArgumentParser
import CA
import Foundation
import MetadataStore
import Signing
import X509

/// `custos cert …`: issue, show, renew and revoke through the API; `import` (certificates a CA issued
/// before Custos) works on the store directly.
struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Work with issued certificates.",
        subcommands: [
            IssueCertificateCommand.self, ShowCertificateCommand.self, RenewCertificateCommand.self,
            RevokeCertificateCommand.self, ImportCertificatesCommand.self,
        ]
    )
}

struct IssueCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a certificate from a PKCS#10 CSR (PEM) under the CA's policy; prints or writes the PEM."
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The issuing CA's id.") var ca: String
    @Option(help: "CSR file (PEM).") var csr: String
    @Option(help: "tls-server, tls-client, device, user, code-signing or ocsp-signing.") var category: String
    @Option(help: "Validity in days (default: the policy's).") var validityDays: Int?
    @Option(help: "Metadata: key=value pairs, comma-separated.") var metadata: String?
    @Flag(help: "Write the chain after the certificate.") var chain = false
    @Option(help: "Output file (default: standard output).") var out: String?

    func run() async throws {
        let body = IssueBody(
            csr: String(decoding: try readFile(csr, what: "the CSR file"), as: UTF8.self),
            category: category,
            validityDays: validityDays,
            metadata: try metadataPairs(metadata)
        )
        let issued = try await api.client().call(
            "POST",
            "/v1/cas/\(APIClient.segment(ca))/certificates",
            body: body,
            as: CertificateView.self
        )
        try writeCertificate(issued, chain: chain, out: out)
    }
}

struct ShowCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A certificate as JSON, PEM, DER or PKCS#7."
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The issuing CA's id.") var ca: String
    @Option(help: "Serial number (hex).") var serial: String
    @Option(help: "json, pem, der or pkcs7.") var format = "json"
    @Flag(help: "With pem or pkcs7: the chain too.") var chain = false
    @Option(help: "Output file (default: standard output).") var out: String?

    func run() async throws {
        guard ["json", "pem", "der", "pkcs7"].contains(format) else {
            throw ValidationError("--format must be json, pem, der or pkcs7")
        }
        let path =
            "/v1/cas/\(APIClient.segment(ca))/certificates/\(APIClient.segment(serial))?format=\(format)"
            + (chain ? "&chain=true" : "")
        try output(try await api.client().send("GET", path), to: out)
    }
}

struct RenewCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract:
            "Renew a certificate: same names, new serial; a new key from --csr, or the same key if the policy allows."
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The issuing CA's id.") var ca: String
    @Option(help: "Serial number (hex) of the certificate to renew.") var serial: String
    @Option(help: "CSR file (PEM) for a new key.") var csr: String?
    @Option(help: "Validity in days (default: the policy's).") var validityDays: Int?
    @Flag(help: "Write the chain after the certificate.") var chain = false
    @Option(help: "Output file (default: standard output).") var out: String?

    func run() async throws {
        let body = RenewCertificateBody(
            csr: try csr.map { String(decoding: try readFile($0, what: "the CSR file"), as: UTF8.self) },
            validityDays: validityDays
        )
        let renewed = try await api.client().call(
            "POST",
            "/v1/cas/\(APIClient.segment(ca))/certificates/\(APIClient.segment(serial))/renew",
            body: body,
            as: CertificateView.self
        )
        try writeCertificate(renewed, chain: chain, out: out)
    }
}

struct RevokeCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a certificate.")
    @OptionGroup var api: APIOptions
    @Option(help: "The issuing CA's id.") var ca: String
    @Option(help: "Serial number (hex).") var serial: String
    @Option(
        help:
            "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise."
    )
    var reason = "unspecified"
    @Option(help: "When the key is known or suspected to have been compromised (RFC 3339).") var invalidityDate: String?

    func run() async throws {
        let date = try invalidityDate.map { text in
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw ValidationError("--invalidity-date is not an RFC 3339 time such as 2027-01-31T00:00:00Z")
            }
            return date
        }
        let revoked = try await api.client().call(
            "POST",
            "/v1/cas/\(APIClient.segment(ca))/certificates/\(APIClient.segment(serial))/revoke",
            body: RevokeBody(reason: reason, invalidityDate: date),
            as: CertificateView.self
        )
        say("revoked \(revoked.serial) of CA \(ca) (\(reason)); the next CRL lists it")
    }
}

/// Writes an issued certificate's PEM (and its chain) and names its serial.
private func writeCertificate(_ issued: CertificateView, chain: Bool, out: String?) throws {
    // One PEM block a line group, each ended by a line feed (the API's PEM strings have none at the end).
    let blocks = [issued.certificate] + (chain ? issued.chain ?? [] : [])
    try output(Data(blocks.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined().utf8), to: out)
    if out != nil {
        say("issued serial \(issued.serial) for \(issued.subject), until \(issued.notAfter.formatted(.iso8601))")
    }
}

struct ImportCertificatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import certificates a CA issued (DER, PEM, PKCS#7 or PKCS#12 files), checked against the CA."
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "The issuing CA's id (created or imported in Custos).")
    var ca: String

    @Option(help: "Metadata for every certificate: key=value pairs, comma-separated.")
    var metadata: String?

    @Option(help: "File holding the password of PKCS#12 files (one line; none: the empty password).")
    var pkcs12PasswordFile: String?

    @Argument(help: "Files with certificates: DER, PEM, PKCS#7 or PKCS#12.")
    var files: [String]

    func run() async throws {
        let pairs = try metadataPairs(metadata)
        let password = try pkcs12PasswordFile.map(readPasswordFile)
        var certificates: [Certificate] = []
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            do {
                certificates += try CertificateImporter.readCertificates(Array(bytes), pkcs12Password: password)
            } catch {
                throw CLIError("\(file): \(error.message)")
            }
        }
        say("read \(certificates.count) certificate(s) from \(files.count) file(s)")
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        let result = try await CertificateImporter(store: store)
            .importCertificates(
                certificates,
                ca: ca,
                metadata: pairs,
                requester: Requester(actor: "cli/\(NSUserName())")
            ) { done, total in say("stored \(done)/\(total)") }
        say("imported \(result.imported), skipped \(result.skipped.count)")
        for skipped in result.skipped { say("  skipped \(skipped.serial): \(skipped.reason)") }
    }
}
