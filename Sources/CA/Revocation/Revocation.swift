import Codecs
public import CustosX509
public import Foundation
public import MetadataStore
import Signing

extension CertificateAuthority {
    /// Revokes the certificate `serial` (hex) of `ca`. A certificate on hold (`certificateHold`) may be
    /// revoked again with a final reason; any other revoked certificate stays as it is
    /// (`already_revoked`). The change, its revocation record and the audit entry commit together;
    /// the CA's next CRL (issued `crl.revocationDelay` later, or when next fetched) lists it.
    public func revoke(
        ca: String,
        serial: String,
        reason: CRLReason,
        invalidityDate: Date? = nil,
        requester: Requester
    ) async throws(CAError) -> CertificateRecord {
        guard reason != .removeFromCRL else {
            throw CAError(.invalidInput, "removeFromCRL is not a revocation reason; it only appears in delta CRLs")
        }
        if let invalidityDate, invalidityDate > Date() {
            throw CAError(.invalidInput, "invalidityDate lies in the future")
        }
        let record = try await certificate(ca: ca, serial: serial)
        let authority = try await authority(ca)
        if authority.record.kind == .upstream, record.status == .valid {
            // The upstream CA revokes first (it publishes the CRLs and OCSP answers); a refusal stores nothing.
            try await revokeUpstream(record, of: authority, reason: reason, requestID: requester.requestID)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let revocation = RevocationRecord(
            issuer: ca,
            serial: record.serial,
            revokedAt: now,
            reason: reason.rawValue,
            invalidityDate: invalidityDate.map { Int64($0.timeIntervalSince1970 * 1e9) }
        )
        let updated: CertificateRecord
        do {
            updated = try await store.write { txn in
                guard var current = try txn.record(CertificateRecord.self, key: record.primaryKey) else {
                    throw CAError(.unknownCertificate, "CA \(ca) has issued no certificate with serial \(serial)")
                }
                if current.status == .revoked {
                    let previous = try txn.record(RevocationRecord.self, key: revocation.primaryKey)
                    guard previous?.reason == CRLReason.certificateHold.rawValue, reason != .certificateHold else {
                        throw CAError(
                            .alreadyRevoked,
                            "certificate \(serial) of CA \(ca) is revoked already"
                                + (previous.flatMap { CRLReason(rawValue: $0.reason) }.map { " (\($0))" } ?? "")
                        )
                    }
                }
                current.status = .revoked
                try txn.save(current)
                try txn.save(revocation)
                try Self.forgetOCSPResponses(ca: ca, serial: current.serial, in: txn)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "certificate.revoke",
                        object: "certificate/\(ca)/\(Hex.encode(record.serial))",
                        outcome: "success: \(reason)"
                            + (invalidityDate.map { ", invalid since \(ISO8601DateFormatter().string(from: $0))" } ?? ""),
                        requestID: requester.requestID
                    )
                )
                return current
            }
        } catch {
            throw CAError.from(error)
        }
        await crls.noteRevocation(ca: ca)
        return updated
    }
}

extension CertificateAuthority {
    /// The valid certificates of `ca` that a bulk revocation with `query` would revoke now, with the
    /// same refusals as `revokeAll` (the console shows them before an officer confirms).
    public func bulkRevocationMatches(ca: String, matching query: CertificateQuery) async throws(CAError)
        -> [CertificateRecord]
    {
        var narrowed = query
        narrowed.ca = nil
        narrowed.status = nil
        guard narrowed != CertificateQuery() else {
            throw CAError(
                .invalidInput,
                "a bulk revocation needs a condition besides the CA (metadata, text, category, serial or expiry)"
            )
        }
        guard try await authority(ca).record.kind != .upstream else {
            throw CAError(
                .caNotUsable,
                "CA \(ca) is upstream: its certificates are revoked one by one, each by the upstream CA first"
            )
        }
        narrowed.ca = ca
        narrowed.status = .valid
        return try await CertificateSearch(store: store).all(narrowed)
    }

    /// Revokes every valid certificate of `ca` that `query` matches (a production batch that failed
    /// QA: `metadata: ["batch": "2026-47"]`). The query needs a condition besides the CA, so that a
    /// mistyped request cannot revoke a whole CA. With `expected`, nothing is revoked unless exactly
    /// that many match (what a preview showed). Revocations commit 1,000 at a time, each with its own
    /// audit entry; returns the serials revoked (hex).
    public func revokeAll(
        ca: String,
        matching query: CertificateQuery,
        reason: CRLReason,
        invalidityDate: Date? = nil,
        expected: Int? = nil,
        requester: Requester
    ) async throws(CAError) -> [String] {
        guard reason != .removeFromCRL else {
            throw CAError(.invalidInput, "removeFromCRL is not a revocation reason; it only appears in delta CRLs")
        }
        let matches = try await bulkRevocationMatches(ca: ca, matching: query)
        if let expected, matches.count != expected {
            throw CAError(
                .conflict,
                "\(matches.count) certificates match now, not the \(expected) previewed; nothing was revoked"
            )
        }
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let invalidSince = invalidityDate.map { Int64($0.timeIntervalSince1970 * 1e9) }
        var revoked: [String] = []
        for chunk in stride(from: 0, to: matches.count, by: 1000).map({ matches[$0..<min($0 + 1000, matches.count)] }) {
            let keys = chunk.map(\.primaryKey)
            do {
                revoked += try await store.write { txn in
                    var done: [String] = []
                    for key in keys {
                        // Revoked meanwhile by someone else: leave it as it is.
                        guard var record = try txn.record(CertificateRecord.self, key: key), record.status == .valid
                        else { continue }
                        record.status = .revoked
                        try txn.save(record)
                        try txn.save(
                            RevocationRecord(
                                issuer: ca,
                                serial: record.serial,
                                revokedAt: now,
                                reason: reason.rawValue,
                                invalidityDate: invalidSince
                            )
                        )
                        try Self.forgetOCSPResponses(ca: ca, serial: record.serial, in: txn)
                        let serial = Hex.encode(record.serial)
                        try txn.appendAudit(
                            AuditEvent(
                                actor: requester.actor,
                                action: "certificate.revoke",
                                object: "certificate/\(ca)/\(serial)",
                                outcome: "success: \(reason) (bulk)",
                                requestID: requester.requestID
                            )
                        )
                        done.append(serial)
                    }
                    return done
                }
            } catch {
                throw CAError.from(error)
            }
        }
        if !revoked.isEmpty { await crls.noteRevocation(ca: ca) }
        return revoked
    }

    /// Removes the stored OCSP responses of a certificate in the transaction that revokes it, so that
    /// none saying "good" is served after the revocation commits.
    static func forgetOCSPResponses(ca: String, serial: [UInt8], in txn: any MetadataWriting) throws {
        try txn.removeOCSPResponses(issuer: ca, serial: serial)
    }

    /// Sets (or, with a nil value, removes) metadata pairs of a certificate; returns it updated.
    public func updateMetadata(ca: String, serial: String, changes: [String: String?], requester: Requester)
        async throws(CAError) -> CertificateRecord
    {
        // Keys removed are checked too: a malformed one is a mistake, not a no-op.
        try Self.validate(metadata: changes.mapValues { $0 ?? "" })
        let record = try await certificate(ca: ca, serial: serial)
        do {
            return try await store.write { txn in
                guard var current = try txn.record(CertificateRecord.self, key: record.primaryKey) else {
                    throw CAError(.unknownCertificate, "CA \(ca) has issued no certificate with serial \(serial)")
                }
                for (key, value) in changes { current.metadata[key] = value }
                try Self.validate(metadata: current.metadata)
                try txn.save(current)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "certificate.metadata",
                        object: "certificate/\(ca)/\(Hex.encode(record.serial))",
                        outcome: "success: "
                            + changes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value ?? "(removed)")" }
                            .joined(separator: ", "),
                        requestID: requester.requestID
                    )
                )
                return current
            }
        } catch {
            throw CAError.from(error)
        }
    }
}
