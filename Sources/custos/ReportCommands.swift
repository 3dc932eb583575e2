import ArgumentParser
import CA
import Codecs
import Foundation
import MetadataStore
import PKCS11

/// `custos report expiring|summary`: certificate reports read from the store directly (also while
/// the server runs).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports on issued certificates.",
        subcommands: [ExpiringReportCommand.self, SummaryReportCommand.self]
    )
}

struct ExpiringReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expiring",
        abstract: "Valid certificates that expire within the next N days, soonest first."
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "The window in days.")
    var days: Int = 30

    @Option(help: "Only this CA's certificates.")
    var ca: String?

    @Option(help: "table or csv.")
    var format: String = "table"

    func run() async throws {
        guard (0...36_500).contains(days) else { throw ValidationError("--days must be from 0 to 36500") }
        guard format == "table" || format == "csv" else { throw ValidationError("--format must be table or csv") }
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        let records = try await CertificateReports(store: store)
            .expiring(withinDays: days, ca: ca)
        let dates = ISO8601DateFormatter()
        let rows = records.map { record in
            [
                dates.string(from: Date(timeIntervalSince1970: Double(record.notAfter) / 1e9)), record.issuer,
                Hex.encode(record.serial), record.category, record.subject,
            ]
        }
        if format == "csv" {
            print(CertificateCSV.render(records), terminator: "")
        } else {
            say("\(records.count) certificate(s) expire within \(days) days")
            for row in rows { print(row.joined(separator: "  ")) }
        }
    }
}

struct SummaryReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Certificate counts by CA, category and status (valid, revoked, expired)."
    )

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        let counts = try await CertificateReports(store: store).summary()
        print("ca,category,status,count")
        for count in counts { print("\(count.ca),\(count.category),\(count.status),\(count.count)") }
    }
}
