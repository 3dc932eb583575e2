import ACME
import Foundation
import MetadataStore

/// Accounts (RFC 8555 section 7.3): creation and lookup, contact updates, deactivation, key rollover.
extension ACMEService {
    func newAccount(_ request: ACMESignedRequest, _ context: Context) async throws(ACMEProblem) -> ACMEResponse {
        let payload = try Self.decodeObject(request.payload)
        if let existing = request.account {
            // Section 7.3.1: a key that has an account gets that account, whatever else was asked.
            guard existing.status == .valid else {
                throw ACMEProblem(.unauthorized, "the account of this key is \(existing.status.rawValue)")
            }
            return accountAnswer(existing, status: 200, context)
        }
        if payload["onlyReturnExisting"] as? Bool == true {
            throw ACMEProblem(.accountDoesNotExist, "no account of this profile has this key")
        }
        if context.policy.termsOfService != nil, payload["termsOfServiceAgreed"] as? Bool != true {
            throw ACMEProblem(
                .userActionRequired,
                "agree to the terms of service (\(context.policy.termsOfService ?? "")) to open an account"
            )
        }
        let contacts = try Self.contacts(payload["contact"])
        var externalKey: String?
        if let binding = payload["externalAccountBinding"] {
            externalKey = try await checkExternalBinding(
                binding,
                accountKey: request.key,
                url: context.urls.newAccount,
                context
            )
        } else if context.policy.externalAccountRequired {
            throw ACMEProblem(
                .externalAccountRequired,
                "profile \(context.profile.id) opens accounts only with an external account binding"
            )
        }
        let boundKey = externalKey
        let now = EnrollmentService.now()
        let record = ACMEAccountRecord(
            id: Self.newID(),
            profile: context.profile.id,
            key: request.key.canonicalJSON,
            thumbprint: request.key.thumbprint,
            contacts: contacts,
            externalAccountKey: boundKey,
            created: now,
            updated: now
        )
        let event = AuditEvent(
            actor: context.actor(record.id),
            action: "acme.account.create",
            object: "acme-account/\(record.id)",
            outcome: "success: key \(record.thumbprint), contacts \(contacts.count)"
                + (boundKey.map { ", bound to external account key \($0)" } ?? ""),
            requestID: context.requestID
        )
        let saved = try await write { txn in
            // Two simultaneous requests with one key: the second finds the first's account.
            if let raced = try txn.acmeAccount(profile: record.profile, thumbprint: record.thumbprint) { return raced }
            if let externalKey = boundKey {
                // Bound once: a second account racing for the same key finds it taken.
                guard var key = try txn.acmeExternalKey(id: externalKey), key.account == nil else {
                    throw ACMEProblem(.unauthorized, "the external account key \(externalKey) is bound already")
                }
                key.account = record.id
                try txn.save(key)
            }
            try txn.save(record)
            try txn.appendAudit(event)
            return record
        }
        return accountAnswer(saved, status: saved.id == record.id ? 201 : 200, context)
    }

    func updateAccount(_ request: ACMESignedRequest, id: String, _ context: Context) async throws(ACMEProblem)
        -> ACMEResponse
    {
        let account = try request.signer
        guard account.id == id else { throw ACMEProblem(.unauthorized, "an account may only change itself") }
        if request.isPostAsGet { return accountAnswer(account, status: 200, context) }
        let payload = try Self.decodeObject(request.payload)
        var changed = account
        var what: [String] = []
        if let status = payload["status"] {
            guard status as? String == "deactivated" else {
                throw ACMEProblem(.malformed, "an account's status can only be changed to \"deactivated\"")
            }
            changed.status = .deactivated
            what.append("deactivated")
        }
        if payload["contact"] != nil {
            changed.contacts = try Self.contacts(payload["contact"])
            what.append("contacts \(changed.contacts.count)")
        }
        guard !what.isEmpty else { return accountAnswer(account, status: 200, context) }
        changed.updated = EnrollmentService.now()
        let final = changed
        let event = AuditEvent(
            actor: context.actor(account.id),
            action: final.status == .deactivated ? "acme.account.deactivate" : "acme.account.update",
            object: "acme-account/\(account.id)",
            outcome: "success: " + what.joined(separator: ", "),
            requestID: context.requestID
        )
        try await write { txn in
            try txn.save(final)
            try txn.appendAudit(event)
        }
        return accountAnswer(final, status: 200, context)
    }

    /// Section 7.3.5: the outer JWS by the account, the inner by the new key, naming the account and
    /// the old key.
    func keyChange(_ request: ACMESignedRequest, url: String, _ context: Context) async throws(ACMEProblem)
        -> ACMEResponse
    {
        let account = try request.signer
        let inner = try JWS(body: request.payload, inner: true)
        guard case .key(let newKey) = inner.signer else {
            throw ACMEProblem(.malformed, "the inner JWS names the new key with \"jwk\"")
        }
        guard inner.isSigned(by: newKey) else {
            throw ACMEProblem(.malformed, "the inner JWS is not signed by the new key")
        }
        guard inner.url == url else { throw ACMEProblem(.malformed, "the inner JWS has another \"url\"") }
        let payload = try Self.decodeObject(inner.payload)
        guard payload["account"] as? String == context.urls.account(account.id) else {
            throw ACMEProblem(.malformed, "the inner payload's \"account\" is not the signer's account URL")
        }
        guard let old = payload["oldKey"] as? [String: Any], try JWK(json: old) == request.key else {
            throw ACMEProblem(.malformed, "the inner payload's \"oldKey\" is not the account's key")
        }
        guard newKey != request.key else { throw ACMEProblem(.malformed, "the new key is the old key") }
        var changed = account
        changed.key = newKey.canonicalJSON
        changed.thumbprint = newKey.thumbprint
        changed.updated = EnrollmentService.now()
        let final = changed
        let urls = context.urls
        let event = AuditEvent(
            actor: context.actor(account.id),
            action: "acme.account.key-change",
            object: "acme-account/\(account.id)",
            outcome: "success: key \(account.thumbprint) replaced by \(final.thumbprint)",
            requestID: context.requestID
        )
        try await write { txn in
            if let other = try txn.acmeAccount(profile: final.profile, thumbprint: final.thumbprint) {
                throw ACMEProblem(.malformed, "account \(urls.account(other.id)) has this key already", status: 409)
            }
            try txn.save(final)
            try txn.appendAudit(event)
        }
        return accountAnswer(final, status: 200, context)
    }

    func accountAnswer(_ account: ACMEAccountRecord, status: Int, _ context: Context) -> ACMEResponse {
        Self.json(
            status,
            [
                "status": account.status.rawValue, "contact": account.contacts,
                "orders": context.urls.orders(account.id),
            ],
            headers: [("Location", context.urls.account(account.id))]
        )
    }

    /// `mailto:` contacts (section 7.3): at most 4, one address each, no query or header fields.
    static func contacts(_ value: Any?) throws(ACMEProblem) -> [String] {
        guard let value else { return [] }
        guard let list = value as? [String] else {
            throw ACMEProblem(.malformed, "\"contact\" is an array of URLs")
        }
        guard list.count <= 4 else { throw ACMEProblem(.invalidContact, "at most 4 contacts") }
        return try list.map { contact throws(ACMEProblem) in
            guard contact.lowercased().hasPrefix("mailto:") else {
                throw ACMEProblem(.unsupportedContact, "only mailto: contacts are kept, not \"\(contact.prefix(64))\"")
            }
            let address = contact.dropFirst(7)
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            guard address.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
                !address.contains(where: {
                    $0 == "?" || $0 == "," || $0 == " " || !$0.isASCII || $0 == "<" || $0 == ">"
                })
            else { throw ACMEProblem(.invalidContact, "\"\(contact.prefix(64))\" is not one mail address") }
            return "mailto:" + address
        }
    }
}
