public import MetadataStore

/// What officers see and do with a profile's ACME accounts over the API and CLI.
extension ACMEService {
    /// Accounts of `profile` in id order after `cursor`.
    public func accounts(profile: String, after cursor: String?, limit: Int) async throws(EnrollmentError)
        -> [ACMEAccountRecord]
    {
        _ = try await enrollment.profile(profile)
        do { return try await store.read { try $0.acmeAccounts(profile: profile, after: cursor, limit: limit) } } catch
        {
            throw EnrollmentError.from(error)
        }
    }

    /// The account `id` of `profile`.
    public func account(_ id: String, profile: String) async throws(EnrollmentError) -> ACMEAccountRecord {
        let found: ACMEAccountRecord?
        do { found = try await store.read { try $0.acmeAccount(id: id) } } catch { throw EnrollmentError.from(error) }
        guard let found, found.profile == profile else {
            throw EnrollmentError(.unknownRequest, "profile \(profile) has no ACME account \(id)")
        }
        return found
    }

    /// The account's orders, oldest first (at most `limit`).
    public func orders(account id: String, profile: String, limit: Int) async throws(EnrollmentError)
        -> [ACMEOrderRecord]
    {
        let account = try await account(id, profile: profile)
        do { return try await store.read { try $0.acmeOrders(account: account.id, limit: limit) } } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// Deactivates the account (RFC 8555 section 7.3.6 lets the server do it): it can no longer order,
    /// revoke or change anything; its certificates stay valid.
    public func deactivate(account id: String, profile: String, requester: Requester) async throws(EnrollmentError)
        -> ACMEAccountRecord
    {
        var account = try await account(id, profile: profile)
        guard account.status == .valid else { return account }
        account.status = .deactivated
        account.updated = EnrollmentService.now()
        let changed = account
        do {
            try await store.write { txn in
                try txn.save(changed)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "acme.account.deactivate",
                        object: "acme-account/\(changed.id)",
                        outcome: "success: by an officer",
                        requestID: requester.requestID
                    )
                )
            }
        } catch { throw EnrollmentError.from(error) }
        return changed
    }
}
