import ArgumentParser
import CA
import Foundation
import MetadataStore
import Signing
import X509

/// `custos cert import`: certificates a CA issued before Custos, from files, into the store directly.
struct CertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Work with issued certificates.",
        subcommands: [ImportCertificatesCommand.self]
    )
}

struct ImportCertificatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import certificates a CA issued (DER, PEM or PKCS#7 files), checked against the CA."
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "The issuing CA's id (created or imported in Custos).")
    var ca: String

    @Option(help: "Metadata for every certificate: key=value pairs, comma-separated.")
    var metadata: String?

    @Argument(help: "Files with certificates.")
    var files: [String]

    func run() async throws {
        var pairs: [String: String] = [:]
        for pair in (metadata ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--metadata takes key=value pairs, not \"\(pair)\"") }
            pairs[parts[0]] = parts[1]
        }
        var certificates: [Certificate] = []
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            do { certificates += try CertificateImporter.readCertificates(Array(bytes)) } catch {
                throw CLIError("\(file): \(error.message)")
            }
        }
        say("read \(certificates.count) certificate(s) from \(files.count) file(s)")
        let (schema, writer) = try await data.openStore()
        defer { writer.shutdown() }
        let result = try await CertificateImporter(store: LMDBBackend(schema: schema, writer: writer))
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
