import ACME
import CA
import Codecs
import Foundation
import MetadataStore

/// Orders (RFC 8555 sections 7.4 and 7.1.3): placing one for identifiers the profile allows, its state
/// as its authorizations progress, and the account's list of them.
extension ACMEService {
    static let maxIdentifiers = 100

    func newOrder(_ request: ACMESignedRequest, _ context: Context) async throws(ACMEProblem) -> ACMEResponse {
        let account = try request.signer
        let payload = try Self.decodeObject(request.payload)
        guard let list = payload["identifiers"] as? [Any], !list.isEmpty else {
            throw ACMEProblem(.malformed, "an order lists its \"identifiers\"")
        }
        guard list.count <= Self.maxIdentifiers else {
            throw ACMEProblem(.rejectedIdentifier, "an order has at most \(Self.maxIdentifiers) identifiers")
        }
        guard payload["notBefore"] == nil, payload["notAfter"] == nil else {
            throw ACMEProblem(.malformed, "the profile sets the validity: orders take no notBefore or notAfter")
        }
        var wanted: [ACMEIdentifier] = []
        var subproblems: [(kind: ACMEProblem.Kind, detail: String, identifier: (type: String, value: String))] = []
        for item in list {
            let raw = item as? [String: Any]
            let shown = (
                type: raw?["type"] as? String ?? "", value: String((raw?["value"] as? String ?? "").prefix(255))
            )
            do throws(ACMEProblem) {
                let identifier = try ACMEIdentifier(json: item)
                if let refusal = context.policy.refusal(identifier) {
                    throw ACMEProblem(.rejectedIdentifier, refusal)
                }
                if !wanted.contains(identifier) { wanted.append(identifier) }
            } catch {
                subproblems.append((error.kind, error.detail, shown))
            }
        }
        if !subproblems.isEmpty {
            let kinds = Set(subproblems.map(\.kind))
            throw ACMEProblem(
                kinds.count == 1 ? kinds.first! : .compound,
                subproblems.count == 1 ? subproblems[0].detail : "\(subproblems.count) identifiers are refused",
                subproblems: subproblems
            )
        }
        var replaces: String?
        if let value = payload["replaces"] {
            guard let text = value as? String else { throw ACMEProblem(.malformed, "\"replaces\" is a certificate id") }
            _ = try await replacedCertificate(text, account: account, context)
            replaces = text
        }
        let identifiers = wanted
        let now = EnrollmentService.now()
        let policy = context.policy
        let expires = now + Int64(policy.pendingHours) * 3_600_000_000_000
        let order = ACMEOrderRecord(
            id: Self.newID(),
            profile: context.profile.id,
            account: account.id,
            identifiers: identifiers.map(\.description),
            authorizations: [],
            expires: expires,
            replaces: replaces,
            created: now
        )
        let fresh = Dictionary(
            identifiers.map { identifier in
                (
                    identifier,
                    ACMEAuthorizationRecord(
                        id: Self.newID(),
                        profile: context.profile.id,
                        account: account.id,
                        identifier: "\(identifier.kind.rawValue):\(identifier.authorizationValue)",
                        wildcard: identifier.isWildcard,
                        expires: expires,
                        token: Base64URL.encode(EnrollmentService.randomBytes(32)),
                        challenges: policy.challenges(for: identifier),
                        created: now
                    )
                )
            },
            uniquingKeysWith: { first, _ in first }
        )
        let actor = context.actor(account.id)
        let requestID = context.requestID
        let saved = try await write { txn in
            if let limit = policy.ordersPerAccountPerHour,
                try txn.acmeOrders(account: account.id, since: now - 3_600_000_000_000, limit: limit).count >= limit
            {
                throw ACMEProblem(.rateLimited, "account \(account.id) placed \(limit) orders in the last hour")
            }
            if let limit = policy.ordersPerIdentifierPerWeek {
                for identifier in identifiers {
                    let count = try txn.acmeOrderCount(
                        profile: order.profile,
                        identifier: identifier.description,
                        since: now - 7 * 86_400_000_000_000,
                        limit: limit
                    )
                    if count >= limit {
                        throw ACMEProblem(.rateLimited, "\(identifier.value) was ordered \(limit) times this week")
                    }
                }
            }
            var order = order
            for identifier in identifiers {
                let authorizationValue = "\(identifier.kind.rawValue):\(identifier.authorizationValue)"
                // A valid authorization of the account for the name proves it again (section 7.1.3)
                // while it lasts; a wildcard needs one made for a wildcard.
                let reusable = try txn.acmeAuthorizations(
                    account: account.id,
                    identifier: authorizationValue,
                    expiringAfter: now
                ).last { $0.status == .valid && $0.wildcard == identifier.isWildcard }
                if let reusable {
                    order.authorizations.append(reusable.id)
                } else if let created = fresh[identifier] {
                    try txn.save(created)
                    order.authorizations.append(created.id)
                }
            }
            let valid = try order.authorizations.allSatisfy { try txn.acmeAuthorization(id: $0)?.status == .valid }
            if valid { order.status = .ready }
            try txn.save(order)
            try txn.appendAudit(
                AuditEvent(
                    actor: actor,
                    action: "acme.order.create",
                    object: "acme-order/\(order.id)",
                    outcome: "\(order.status.rawValue): " + identifiers.map(\.description).joined(separator: " "),
                    requestID: requestID
                )
            )
            return order
        }
        return Self.json(
            201,
            orderJSON(saved, context),
            headers: [("Location", context.urls.order(saved.id))]
        )
    }

    func order(_ request: ACMESignedRequest, id: String, _ context: Context) async throws(ACMEProblem) -> ACMEResponse {
        let order = try await refreshed(try ownOrder(id, account: try request.signer), context)
        var headers: [(name: String, value: String)] = [("Location", context.urls.order(order.id))]
        if order.status == .processing { headers.append(("Retry-After", "2")) }
        return Self.json(200, orderJSON(order, context), headers: headers)
    }

    /// The account's orders (section 7.1.2.1), newest last, at most 1000.
    func orderList(_ request: ACMESignedRequest, id: String, _ context: Context) async throws(ACMEProblem)
        -> ACMEResponse
    {
        let account = try request.signer
        guard account.id == id else { throw ACMEProblem(.unauthorized, "an account lists only its own orders") }
        let orders = try await read { try $0.acmeOrders(account: account.id, limit: 1000) }
        return Self.json(200, ["orders": orders.map { context.urls.order($0.id) }])
    }

    /// The order `id` of `account`; others' orders do not exist for it.
    func ownOrder(_ id: String, account: ACMEAccountRecord) async throws(ACMEProblem) -> ACMEOrderRecord {
        guard let order = try await read({ try $0.acmeOrder(id: id) }), order.account == account.id else {
            throw ACMEProblem(.malformed, "the account has no order \(id.prefix(32))", status: 404)
        }
        return order
    }

    /// The order with its status brought up to date: ready once every authorization is valid, invalid
    /// once one failed or the order expired (section 7.1.6). A change is stored with an audit entry.
    func refreshed(_ order: ACMEOrderRecord, _ context: Context) async throws(ACMEProblem) -> ACMEOrderRecord {
        guard order.status == .pending || order.status == .ready else { return order }
        let now = EnrollmentService.now()
        var changed = order
        if order.expires <= now {
            changed.status = .invalid
            changed.error = ACMEProblem(.malformed, "the order expired before it was finalized").jsonText
        } else if order.status == .pending {
            let authorizations = try await read { reader in
                try order.authorizations.compactMap { try reader.acmeAuthorization(id: $0) }
            }
            if let failed = authorizations.first(where: { $0.status != .valid && $0.status != .pending }) {
                changed.status = .invalid
                changed.error =
                    failed.error
                    ?? ACMEProblem(
                        .unauthorized,
                        "authorization for \(failed.identifier) is \(failed.status.rawValue)"
                    ).jsonText
            } else if authorizations.count == order.authorizations.count,
                authorizations.allSatisfy({ $0.status == .valid && $0.expires > now })
            {
                changed.status = .ready
            }
        }
        guard changed.status != order.status else { return order }
        let final = changed
        let event = AuditEvent(
            actor: "acme/\(context.profile.id)",
            action: "acme.order.\(final.status.rawValue)",
            object: "acme-order/\(order.id)",
            outcome: final.status == .ready ? "success: every authorization is valid" : "failure: \(final.error ?? "")",
            requestID: context.requestID
        )
        return try await write { txn in
            // Another request may have moved it on meanwhile: that state wins.
            guard let current = try txn.acmeOrder(id: order.id), current.status == order.status else {
                return try txn.acmeOrder(id: order.id) ?? final
            }
            try txn.save(final)
            try txn.appendAudit(event)
            return final
        }
    }

    func orderJSON(_ order: ACMEOrderRecord, _ context: Context) -> [String: Any] {
        var object: [String: Any] = [
            "status": order.status.rawValue,
            "expires": Self.timestamp(order.expires),
            "identifiers": order.identifiers.compactMap { try? ACMEIdentifier(text: $0).json },
            "authorizations": order.authorizations.map { context.urls.authorization($0) },
            "finalize": context.urls.finalize(order.id),
        ]
        if let serial = order.serial { object["certificate"] = context.urls.certificate(serial) }
        if let error = order.error, let problem = try? JSONSerialization.jsonObject(with: Data(error.utf8)) {
            object["error"] = problem
        }
        if let replaces = order.replaces { object["replaces"] = replaces }
        return object
    }
}

extension ACMEProblem {
    /// The problem document as text, to store with an order or authorization.
    var jsonText: String { String(decoding: json, as: UTF8.self) }
}
