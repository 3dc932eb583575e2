import Crypto
import Foundation
public import MetadataStore

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
        try Self.validate(role: role, keyPatterns: keyPatterns, tenant: tenant)
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
                            ? ""
                            : (role == .vault ? ", namespaces " : role == .trigger ? ", actions " : ", keys ")
                                + keyPatterns.joined(separator: ","))
                        + (tenant.map { ", tenant \($0)" } ?? ""),
                    requestID: requester.requestID
                )
            )
        }
        return (record, secret)
    }

    /// Checks a credential request before anything is written.
    static func validate(role: CredentialRecord.Role, keyPatterns: [String], tenant: String?) throws(AccessError) {
        if let tenant {
            guard role == .officer || role == .auditor else {
                throw AccessError(.invalidInput, "a tenant limits officer and auditor credentials only")
            }
            guard !tenant.isEmpty, tenant.utf8.count <= 64 else {
                throw AccessError(.invalidInput, "a tenant has 1 to 64 characters")
            }
        }
        for pattern in keyPatterns {
            guard !pattern.isEmpty, pattern.utf8.count <= 128 else {
                throw AccessError(.invalidInput, "a key pattern has 1 to 128 characters")
            }
        }
        if role != .signer && role != .vault && role != .trigger && !keyPatterns.isEmpty {
            throw AccessError(.invalidInput, "patterns apply to the signer, vault and trigger roles only")
        }
        if role == .trigger && keyPatterns.isEmpty {
            throw AccessError(.invalidInput, "a trigger credential needs the actions it may run")
        }
    }

    /// The live credential for a bearer secret, if any.
    public func authenticate(_ secret: String) async throws -> CredentialRecord? {
        guard secret.hasPrefix("cst_"), secret.utf8.count == 47 else { return nil }
        let hash = Self.hash(secret)
        let found = try await known.value(hash, watching: CredentialRecord.self, in: store) { reader in
            try reader.credential(secretHash: hash)
        }
        guard let record = found, !record.revoked else { return nil }
        return record
    }

    /// Revokes a credential. Returns false if it does not exist.
    public func revoke(id: String, requester: Requester) async throws -> Bool {
        try await store.write { txn in
            guard var record = try txn.credential(id: id) else { return false }
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

    /// Records a refused request (a missing, unknown or revoked credential, a forbidden route or key) in
    /// the audit log as `api.access`.
    public func recordRefusal(actor: String, request object: String, outcome: String, requestID: String?) async throws {
        let event = AuditEvent(
            actor: actor,
            action: "api.access",
            object: object,
            outcome: outcome,
            requestID: requestID
        )
        _ = try await store.write { txn in try txn.appendAudit(event) }
    }

    /// Writes a summary of anonymous refusals: one audit entry per kind, one for the kinds beyond the
    /// summary's limit, all in one durable write. Nothing when the summary is empty.
    public func recordRefusals(_ summary: AnonymousRefusals.Summary) async throws {
        guard !summary.isEmpty else { return }
        let period = "\(Self.timestamp(summary.from)) to \(Self.timestamp(summary.to))"
        var events = summary.counts.sorted { ($0.key.route, $0.key.source) < ($1.key.route, $1.key.source) }.map {
            kind,
            count in
            AuditEvent(
                actor: "anonymous",
                action: "api.access.summary",
                object: kind.route,
                outcome:
                    "denied: \(kind.reason): \(count) request\(count == 1 ? "" : "s") from \(kind.source), \(period)"
            )
        }
        if summary.others > 0 {
            events.append(
                AuditEvent(
                    actor: "anonymous",
                    action: "api.access.summary",
                    object: "*",
                    outcome: "denied: \(summary.others) more requests of other sources, routes or reasons, \(period)"
                )
            )
        }
        let written = events
        _ = try await store.write { txn in
            for event in written { try txn.appendAudit(event) }
        }
    }

    private static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// Every credential, in id order.
    public func list() async throws -> [CredentialRecord] {
        try await store.read { try $0.records(CredentialRecord.self, after: nil, limit: .max) }
    }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
