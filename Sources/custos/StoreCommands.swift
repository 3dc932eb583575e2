import ArgumentParser
import Foundation
import MetadataStore

/// `custos store …`: backup and consistency checks of the metadata store.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Back up and check the metadata store.",
        subcommands: [BackupCommand.self, VerifyStoreCommand.self, ExerciseStoreCommand.self]
    )
}

struct DataDirectoryOption: ParsableArguments {
    @Option(help: "Data directory (the store is in <data-dir>/store).")
    var dataDir = ".custos"

    func openStore() async throws -> (Schema, StoreWriter) {
        guard FileManager.default.fileExists(atPath: CustosStore.path(dataDirectory: dataDir) + "/data.mdb") else {
            throw CLIError("no store in \(dataDir) (expected \(CustosStore.path(dataDirectory: dataDir))/data.mdb)")
        }
        return try await CustosStore.open(dataDirectory: dataDir)
    }

    /// The store as the services see it (the backend protocol), and its writer to shut down when done:
    /// commands that read or change records go through this, not through LMDB.
    func openBackend() async throws -> (store: any MetadataBackend, writer: StoreWriter) {
        let (schema, writer) = try await openStore()
        return (LMDBBackend(schema: schema, writer: writer), writer)
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
        let (schema, writer) = try await data.openStore()
        defer { writer.shutdown() }
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
        let (schema, writer) = try await data.openStore()
        defer { writer.shutdown() }
        let indexes = try schema.verifyIndexes(CustosStore.recordTypes)
        let audit = try schema.verifyAudit()
        say("\(indexes.records) records, \(indexes.indexEntries) index entries, \(audit.entries) audit entries checked")
        for problem in indexes.problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
        if let broken = audit.firstBroken {
            FileHandle.standardError.write(Data("error: audit entry \(broken.sequence): \(broken.reason)\n".utf8))
        }
        if !indexes.problems.isEmpty || audit.firstBroken != nil { throw ExitCode.failure }
        say("store is consistent")
    }
}
