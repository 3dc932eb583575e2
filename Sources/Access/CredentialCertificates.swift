import Crypto
public import MetadataStore

/// TLS client certificates bound to credentials: a smartcard's certificate signs in to the web console
/// as the credential it is bound to. Only the SHA-256 of the certificate is kept; the TLS handshake
/// proves the client holds its key, so a certificate can be bound whoever issued it.
extension Credentials {
    /// The roles that may sign in to the console, and so may have certificates bound.
    public static let certificateRoles: Set<CredentialRecord.Role> = [.admin, .officer, .auditor]

    /// The SHA-256 of a certificate's DER, in lower-case hex: how a bound certificate is named.
    public static func certificateHash(_ der: [UInt8]) -> String {
        SHA256.hash(data: der).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Binds the certificate `der` to the credential `id`; returns the credential, or nil when there is
    /// none. Refused for a revoked credential, a role that does not use the console, and a certificate
    /// bound to another credential already.
    public func bindCertificate(id: String, der: [UInt8], requester: Requester) async throws -> CredentialRecord? {
        let hash = Self.certificateHash(der)
        return try await store.write { txn in
            guard var record = try txn.credential(id: id) else { return nil }
            guard !record.revoked else { throw AccessError(.invalidInput, "credential \(id) is revoked") }
            guard Self.certificateRoles.contains(record.role) else {
                throw AccessError(
                    .invalidInput,
                    "a certificate signs in to the console, which \(record.role.rawValue) credentials do not use"
                )
            }
            if let other = try txn.credential(certificateHash: hash), other.id != id {
                throw AccessError(.invalidInput, "this certificate is bound to credential \(other.id) already")
            }
            guard !record.certificates.contains(hash) else { return record }
            guard record.certificates.count < 16 else {
                throw AccessError(.invalidInput, "a credential has at most 16 certificates; unbind one first")
            }
            record.certificates.append(hash)
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "credential.certificate.bind",
                    object: "credential/\(id)",
                    outcome: "success: sha256 \(hash)",
                    requestID: requester.requestID
                )
            )
            return record
        }
    }

    /// Unbinds the certificate with SHA-256 `hash` from the credential `id`; nil when either is unknown.
    public func unbindCertificate(id: String, hash: String, requester: Requester) async throws -> CredentialRecord? {
        try await store.write { txn in
            guard var record = try txn.credential(id: id), record.certificates.contains(hash.lowercased()) else {
                return nil
            }
            record.certificates.removeAll { $0 == hash.lowercased() }
            try txn.save(record)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "credential.certificate.unbind",
                    object: "credential/\(id)",
                    outcome: "success: sha256 \(hash.lowercased())",
                    requestID: requester.requestID
                )
            )
            return record
        }
    }

    /// The live credential the client certificate `der` is bound to, if any.
    public func authenticate(certificate der: [UInt8]) async throws -> CredentialRecord? {
        let hash = Self.certificateHash(der)
        guard let record = try await store.read({ try $0.credential(certificateHash: hash) }), !record.revoked else {
            return nil
        }
        return record
    }
}
