import Crypto
import Foundation
public import MetadataStore
public import Signing

/// API credentials: random bearer secrets of which only a SHA-256 is stored.
///
/// A credential is `cst_` and 43 base64url characters (32 random bytes from the OS generator). It is
/// shown once, when created. Requests look it up by hash in the store on every call, so a revocation
/// made by another process (`custos credential revoke`) takes effect on the next request.
public struct Credentials: Sendable {
    public let store: any MetadataBackend
    /// Credentials as stored, by secret hash, while no credential changes (every request reads one).
    private let known = ChangeStampedCache<[UInt8], CredentialRecord?>()

    public init(store: any MetadataBackend) { self.store = store }

    /// Creates a credential; returns its record and the bearer secret (which is not kept).
    public func create(
        role: CredentialRecord.Role,
        keyPatterns: [String],
        tenant: String? = nil,
        requester: Requester
    ) async throws -> (record: CredentialRecord, secret: String) {
        if let tenant {
            guard role == .officer || role == .auditor else {
                throw APIError.badRequest("invalid_input", "a tenant limits officer and auditor credentials only")
            }
            guard !tenant.isEmpty, tenant.utf8.count <= 64 else {
                throw APIError.badRequest("invalid_input", "a tenant has 1 to 64 characters")
            }
        }
        for pattern in keyPatterns {
            guard !pattern.isEmpty, pattern.utf8.count <= 128 else {
                throw APIError.badRequest("invalid_input", "a key pattern has 1 to 128 characters")
            }
        }
        if role != .signer && role != .vault && !keyPatterns.isEmpty {
            throw APIError.badRequest("invalid_input", "patterns apply to the signer and vault roles only")
        }
        var generator = SystemRandomNumberGenerator()
        let secretBytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let secret = "cst_" + Self.base64url(secretBytes)
        let idBytes = (0..<8).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let record = CredentialRecord(
            id: idBytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(),
            secretHash: Self.hash(secret),
            role: role,
            keyPatterns: keyPatterns,
            tenant: tenant,
            created: Int64(Date().timeIntervalSince1970 * 1e9),
            revoked: false
        )
        try await store.write { txn in
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "credential.create",
                    object: "credential/\(record.id)",
                    outcome: "success: role \(role.rawValue)"
                        + (keyPatterns.isEmpty
                            ? "" : (role == .vault ? ", namespaces " : ", keys ") + keyPatterns.joined(separator: ","))
                        + (tenant.map { ", tenant \($0)" } ?? ""),
                    requestID: requester.requestID
                )
            )
        }
        return (record, secret)
    }

    /// The live credential for a bearer secret, if any.
    public func authenticate(_ secret: String) throws -> CredentialRecord? {
        guard secret.hasPrefix("cst_"), secret.utf8.count == 47 else { return nil }
        let hash = Self.hash(secret)
        let found = try known.value(hash, watching: CredentialRecord.self, in: store) { reader in
            var key = Key()
            key.append(bytes: hash)
            return try reader.records(CredentialRecord.self, index: "secret-hash", value: key, limit: 1).first
        }
        guard let record = found, !record.revoked else { return nil }
        return record
    }

    /// Revokes a credential. Returns false if it does not exist.
    public func revoke(id: String, requester: Requester) async throws -> Bool {
        try await store.write { txn in
            guard var record = try txn.record(CredentialRecord.self, key: Key().appending(id)) else { return false }
            record.revoked = true
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "credential.revoke",
                    object: "credential/\(id)",
                    outcome: "success",
                    requestID: requester.requestID
                )
            )
            return true
        }
    }

    /// Every credential, in id order.
    public func list() throws -> [CredentialRecord] {
        try store.read { try $0.records(CredentialRecord.self, after: nil, limit: .max) }
    }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension CredentialRecord {
    /// Whether a signer credential may use the key `name`: a pattern is a name, or a prefix ending in `*`.
    public func permits(key name: String) -> Bool {
        role == .signer && Self.matches(keyPatterns, name)
    }

    /// Whether the credential may read and write secrets in the vault namespace `name`: administrators
    /// everywhere, vault credentials where one of their patterns matches.
    public func permits(namespace name: String) -> Bool {
        role == .admin || (role == .vault && Self.matches(keyPatterns, name))
    }

    private static func matches(_ patterns: [String], _ name: String) -> Bool {
        patterns.contains { pattern in
            pattern == "*" || pattern == name || (pattern.hasSuffix("*") && name.hasPrefix(pattern.dropLast()))
        }
    }
}
