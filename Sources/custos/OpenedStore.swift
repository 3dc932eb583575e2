import Foundation
import MetadataStore

/// The store a command works on: LMDB in the data directory (the embedded default), or PostgreSQL when
/// `--store`, the configuration file's `store.url` or `CUSTOS_STORE` names a postgres:// URL.
struct OpenedStore: Sendable {
    /// The store as the services see it.
    let backend: any MetadataBackend
    /// The LMDB schema, when the store is LMDB (backups and index checks work on its files).
    let lmdb: Schema?
    private let close: @Sendable () -> Void

    /// Finishes queued writes and closes the store.
    func shutdown() { close() }

    /// Opens (creating and migrating as needed) the store at `url`, or the data directory's LMDB store.
    /// `mustExist` refuses to create an LMDB store (maintenance commands on a wrong directory).
    static func open(
        dataDirectory: String,
        url: String?,
        mustExist: Bool = false,
        auditSink: (@Sendable ([AuditEntry]) -> Void)? = nil
    ) async throws -> OpenedStore {
        if let url, !url.isEmpty {
            guard PostgresLocation.isURL(url) else {
                throw CLIError("--store takes a postgres://user@host/database URL; LMDB is the data directory")
            }
            let backend = try await PostgresBackend.open(
                try PostgresLocation(url: url),
                types: CustosStore.recordTypes,
                auditSink: auditSink
            )
            return OpenedStore(backend: backend, lmdb: nil) { backend.shutdown() }
        }
        let path = CustosStore.path(dataDirectory: dataDirectory)
        if mustExist && !FileManager.default.fileExists(atPath: path + "/data.mdb") {
            throw CLIError("no store in \(dataDirectory) (expected \(path)/data.mdb)")
        }
        let (schema, writer) = try await CustosStore.open(dataDirectory: dataDirectory, auditSink: auditSink)
        return OpenedStore(backend: LMDBBackend(schema: schema, writer: writer), lmdb: schema) { writer.shutdown() }
    }
}
