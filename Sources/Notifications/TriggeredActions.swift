public import APIModels
public import CA
import CustosX509
import Foundation
public import MetadataStore

/// Actions an external system sets off with its own credential (the `trigger` role, limited to action
/// names): today bulk revocations of the certificates whose metadata matches the run's parameters, for
/// example a production batch a QA station found faulty. A run is bounded (`maxCertificates`), can be
/// tried dry, and is audited (`action.run`) besides each revocation.
public struct TriggeredActions: Sendable, SettingsStore {
    let authority: CertificateAuthority

    public init(authority: CertificateAuthority) { self.authority = authority }

    var store: any MetadataBackend { authority.store }

    /// Creates or replaces the action `name`; its CA must exist and be the caller's tenant's.
    public func set(_ body: ActionBody, name: String, tenantLimit: String?, requester: Requester)
        async throws(NotificationError) -> ActionBody
    {
        try NotificationSettings.validName(name, "the action name")
        var action = body
        action.name = name
        let revoke = body.revoke
        guard CRLReason(name: revoke.reason).map({ $0 != .removeFromCRL }) == true else {
            throw NotificationError(.invalidInput, "revoke.reason must be an RFC 5280 reason such as keyCompromise")
        }
        guard !revoke.metadata.isEmpty, revoke.metadata.count <= 16 else {
            throw NotificationError(
                .invalidInput,
                "revoke.metadata needs 1 to 16 pairs (a bulk revocation needs a condition)"
            )
        }
        let named = Set(revoke.metadata.values.flatMap(Self.placeholders))
        let declared = Set(revoke.parameters ?? [])
        guard named == declared, declared.count == (revoke.parameters ?? []).count else {
            throw NotificationError(
                .invalidInput,
                "revoke.parameters must list each {placeholder} of revoke.metadata once: it names "
                    + (declared.sorted().joined(separator: ", ")) + ", the values use "
                    + named.sorted().joined(separator: ", ")
            )
        }
        if let limit = revoke.maxCertificates, !(1...100_000).contains(limit) {
            throw NotificationError(.invalidInput, "revoke.maxCertificates must be from 1 to 100000")
        }
        action.revoke.maxCertificates = revoke.maxCertificates ?? 1000
        let ca = try await caRecord(revoke.ca, tenantLimit: tenantLimit)
        action.tenant = ca.tenant
        let document = try Notifier.encode(action)
        let stored = action
        try await write { txn in
            if let existing = try txn.action(name), tenantLimit != nil, existing.tenant != tenantLimit {
                throw NotificationError(.forbidden, "the action \(name) belongs to another tenant")
            }
            try txn.save(ActionRecord(name: name, tenant: ca.tenant, document: document, updated: try txn.clock()))
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "action.set",
                    object: "action/\(name)",
                    outcome: "success: revoke at \(stored.revoke.ca)",
                    requestID: requester.requestID
                )
            )
        }
        return action
    }

    public func list(tenantLimit: String?) async throws(NotificationError) -> [ActionBody] {
        try await read { reader in
            try reader.records(ActionRecord.self, after: nil, limit: .max)
                .filter { tenantLimit == nil || $0.tenant == tenantLimit }
                .compactMap { try? JSONDecoder().decode(ActionBody.self, from: Data($0.document)) }
        }
    }

    public func action(_ name: String, tenantLimit: String?) async throws(NotificationError) -> ActionBody {
        guard let action = try await list(tenantLimit: tenantLimit).first(where: { $0.name == name }) else {
            throw NotificationError(.unknownAction, "no action \(name)")
        }
        return action
    }

    public func delete(_ name: String, tenantLimit: String?, requester: Requester) async throws(NotificationError) {
        _ = try await action(name, tenantLimit: tenantLimit)
        try await write { txn in
            try txn.removeAction(name)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "action.delete",
                    object: "action/\(name)",
                    outcome: "success",
                    requestID: requester.requestID
                )
            )
        }
    }

    /// Runs the action with `parameters` (exactly its declared ones): counts the matching valid
    /// certificates and, unless `dryRun`, revokes exactly those (none if another issuance or revocation
    /// changed the set meanwhile, or if there are more than the action allows).
    public func run(
        _ name: String,
        parameters: [String: String],
        dryRun: Bool,
        tenantLimit: String?,
        requester: Requester
    ) async throws(NotificationError) -> (matched: Int, revoked: [String]) {
        let action = try await action(name, tenantLimit: tenantLimit)
        let revoke = action.revoke
        let declared = Set(revoke.parameters ?? [])
        guard Set(parameters.keys) == declared else {
            throw NotificationError(
                .invalidInput,
                "parameters must be exactly " + (declared.isEmpty ? "none" : declared.sorted().joined(separator: ", "))
            )
        }
        for (key, value) in parameters {
            guard (1...128).contains(value.count), !value.contains(where: { $0.isNewline || $0 == "{" || $0 == "}" }),
                value.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control })
            else {
                throw NotificationError(
                    .invalidInput,
                    "parameters.\(key) must be 1 to 128 characters without braces or control characters"
                )
            }
        }
        var metadata: [String: String] = [:]
        for (key, value) in revoke.metadata {
            metadata[key] = parameters.reduce(value) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
        }
        let query = CertificateQuery(ca: revoke.ca, status: .valid, metadata: metadata)
        let limit = revoke.maxCertificates ?? 1000
        let reason = CRLReason(name: revoke.reason) ?? .unspecified
        do {
            let matches = try await authority.bulkRevocationMatches(ca: revoke.ca, matching: query)
            guard matches.count <= limit else {
                try await audit(requester, name, "refused: \(matches.count) certificates match, more than \(limit)")
                throw NotificationError(
                    .conflict,
                    "\(matches.count) certificates match, more than the action allows (\(limit)); nothing was revoked"
                )
            }
            if dryRun { return (matches.count, []) }
            let revoked = try await authority.revokeAll(
                ca: revoke.ca,
                matching: query,
                reason: reason,
                expected: matches.count,
                requester: requester
            )
            try await audit(requester, name, "success: \(revoked.count) revoked")
            return (matches.count, revoked)
        } catch let error as NotificationError {
            throw error
        } catch let error as CAError where error.code == .conflict || error.code == .invalidInput {
            throw NotificationError(error.code == .conflict ? .conflict : .invalidInput, error.message)
        } catch {
            throw NotificationError.from(error)
        }
    }

    private func audit(_ requester: Requester, _ name: String, _ outcome: String) async throws {
        _ = try await store.write { txn in
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "action.run",
                    object: "action/\(name)",
                    outcome: outcome,
                    requestID: requester.requestID
                )
            )
        }
    }

    private func caRecord(_ id: String, tenantLimit: String?) async throws(NotificationError) -> CARecord {
        let record = try await read { reader in try reader.ca(id: id) }
        guard let record, tenantLimit == nil || record.tenant == tenantLimit else {
            throw NotificationError(.invalidInput, "revoke.ca: no CA \(id)")
        }
        return record
    }

    /// The `{name}` placeholders of a value.
    static func placeholders(_ value: String) -> [String] {
        var names: [String] = []
        var rest = value[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }
}
