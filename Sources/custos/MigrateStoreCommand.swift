import ArgumentParser
import Foundation
import MetadataStore

/// `custos store migrate --to …`: copies the whole store to another backend (LMDB to PostgreSQL, or
/// back) and checks the copy.
struct MigrateStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the store to PostgreSQL or to a new data directory's LMDB store, and verify the copy.",
        discussion: """
            Stop every node on the source first. The source is --data-dir (LMDB) or --store (PostgreSQL);
            the target is --to: a postgres:// URL or a data directory. The target must be empty. Records,
            index entries, the audit chain and change stamps are copied as stored, then compared one by
            one; the target's audit chain then records the migration.
            """
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "The target: postgres://user@host/database, or a data directory for a new LMDB store.")
    var to: String

    @Option(help: "Records per write transaction.")
    var batch = 1_000

    func run() async throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        let (source, opened) = try await data.openBackend()
        defer { opened.shutdown() }
        let isURL = PostgresLocation.isURL(to)
        if !isURL, to.contains("://") {
            throw ValidationError("--to takes a postgres:// URL or a data directory, not \(to)")
        }
        if !isURL, data.storeURL == nil,
            URL(fileURLWithPath: to).standardizedFileURL == URL(fileURLWithPath: data.dataDir).standardizedFileURL
        {
            throw ValidationError("--to names the source's own data directory")
        }
        let target = try await OpenedStore.open(dataDirectory: to, url: isURL ? to : nil)
        defer { target.shutdown() }
        let copy = StoreCopy(from: source, to: target.backend, types: CustosStore.recordTypes, batch: batch)
        let started = ContinuousClock.now
        let summary: StoreCopy.Summary
        do {
            summary = try await copy.copy()
        } catch let error as StoreError where error.code == .conflict {
            throw CLIError(error.reason)
        }
        let records = summary.records.values.reduce(0, +)
        say(
            "copied \(records) records, \(summary.indexEntries) index entries and \(summary.auditEntries) audit entries "
                + "from \(source.location) to \(target.backend.location) in \(ContinuousClock.now - started)"
        )
        if let difference = try await copy.difference() {
            throw CLIError("the copy does not match the source: \(difference); do not use it")
        }
        let sourceLocation = source.location
        _ = try await target.backend.write { txn in
            try txn.appendAudit(
                AuditEvent(
                    actor: "custos",
                    action: "store.migrate",
                    object: "store",
                    outcome:
                        "success: \(records) records and \(summary.auditEntries) audit entries from \(sourceLocation)"
                )
            )
        }
        say("the copy matches the source record for record; its audit chain verifies")
    }
}
