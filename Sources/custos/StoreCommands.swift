import ArgumentParser
import Foundation
import MetadataStore

/// `custos store …`: backup, migration and consistency checks of the metadata store.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Back up, migrate and check the metadata store.",
        subcommands: [BackupCommand.self, VerifyStoreCommand.self, MigrateStoreCommand.self, ExerciseStoreCommand.self]
    )
}

struct DataDirectoryOption: ParsableArguments {
    @Option(help: "Data directory (the store is in <data-dir>/store).")
    var dataDir = ".custos"

    @Option(help: "A PostgreSQL store instead (postgres://user@host/database; also CUSTOS_STORE).")
    var store: String?

    /// `--store`, else `CUSTOS_STORE`.
    var storeURL: String? {
        store ?? ProcessInfo.processInfo.environment["CUSTOS_STORE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The store as the services see it, and what to shut down when done: commands that read or change
    /// records go through this, whichever backend holds them.
    func openBackend() async throws -> (store: any MetadataBackend, writer: OpenedStore) {
        let opened = try await OpenedStore.open(dataDirectory: dataDir, url: storeURL, mustExist: true)
        return (opened.backend, opened)
    }
}

/// `custos store backup PATH`.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent, compacted copy of the store while it stays online."
    )

    @OptionGroup var data: DataDirectoryOption

    @Argument(help: "Directory for the copy; must not exist or be empty.")
    var path: String

    func run() async throws {
        let opened = try await OpenedStore.open(dataDirectory: data.dataDir, url: data.storeURL, mustExist: true)
        defer { opened.shutdown() }
        guard let schema = opened.lmdb else {
            throw CLIError("a PostgreSQL store is backed up with PostgreSQL's tools (pg_basebackup, pg_dump)")
        }
        try schema.environment.backup(to: path)
        say("backup of \(schema.environment.path) written to \(path)")
    }
}

/// `custos store verify`.
struct VerifyStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every index against the records and the audit chain."
    )

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        let (store, opened) = try await data.openBackend()
        defer { opened.shutdown() }
        let (indexes, audit) = try await store.read {
            (try $0.verifyIndexes(CustosStore.recordTypes), try $0.verifyAudit())
        }
        say("\(indexes.records) records, \(indexes.indexEntries) index entries, \(audit.entries) audit entries checked")
        for problem in indexes.problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
        if let broken = audit.firstBroken {
            FileHandle.standardError.write(Data("error: audit entry \(broken.sequence): \(broken.reason)\n".utf8))
        }
        if !indexes.problems.isEmpty || audit.firstBroken != nil { throw ExitCode.failure }
        say("store is consistent")
    }
}
