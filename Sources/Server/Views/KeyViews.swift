import APIModels
import Foundation
import MetadataStore
import Signing
import X509

extension KeyView {
    /// `key` as the API shows it: public half, token and `CKA_ID`, attached chain.
    init(_ key: SigningKey) {
        self.init(
            name: key.name,
            algorithm: key.algorithm.rawValue,
            state: key.state.rawValue,
            created: key.created,
            publicKey: key.publicKey.pemRepresentation,
            token: key.token,
            keyId: key.reference.idHex,
            certificateChain: key.certificateChain.isEmpty
                ? nil : key.certificateChain.compactMap { try? $0.serializeAsPEM().pemString }
        )
    }
}

extension CredentialView {
    /// `record` as the API shows it; `token` only in the answer to its creation.
    init(_ record: CredentialRecord, token: String? = nil) {
        self.init(
            id: record.id,
            role: record.role.rawValue,
            keys: record.role == .vault || record.role == .trigger ? [] : record.keyPatterns,
            namespaces: record.role == .vault ? record.keyPatterns : [],
            created: Date(timeIntervalSince1970: Double(record.created) / 1e9),
            revoked: record.revoked,
            tenant: record.tenant,
            token: token,
            certificates: record.certificates.isEmpty ? nil : record.certificates,
            actions: record.role == .trigger ? record.keyPatterns : nil
        )
    }
}
