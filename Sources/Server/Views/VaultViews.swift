import APIModels
import Foundation
import MetadataStore
import Vault

extension VaultNamespaceView {
    /// `record` as the API shows it, with the progress of a KEK rotation while one runs.
    init(_ record: VaultNamespaceRecord, rotation: Vault.RotationProgress? = nil) {
        self.init(
            name: record.name,
            kekVersions: record.keks.map(\.version),
            currentKEKVersion: record.keks.last?.version ?? 0,
            maxSecretBytes: record.maxSecretBytes,
            keepVersions: record.keepVersions,
            allowPlaintextImport: record.allowPlaintextImport,
            allowPlaintextExport: record.allowPlaintextExport,
            created: Date(timeIntervalSince1970: Double(record.created) / 1e9),
            rotation: rotation.map { VaultRotationProgress(retiring: $0.retiring, remaining: $0.remaining) }
        )
    }
}

extension VaultSecretView {
    /// A version of a secret; with `value` when the answer reads it (base64, and as text when UTF-8).
    init(_ info: Vault.SecretInfo, value: [UInt8]? = nil) {
        self.init(
            namespace: info.namespace,
            path: info.path,
            version: info.version,
            size: info.size,
            metadata: info.metadata,
            archived: info.archived,
            created: info.created,
            kekVersion: info.kekVersion,
            value: value.map { Data($0).base64EncodedString() },
            text: value.flatMap { String(validating: $0, as: UTF8.self) }
        )
    }
}

extension VaultKeyView {
    init(_ info: Vault.KeyInfo) {
        self.init(
            namespace: info.namespace,
            name: info.name,
            type: info.type,
            origin: info.origin,
            metadata: info.metadata,
            created: info.created,
            kekVersion: info.kekVersion
        )
    }
}
