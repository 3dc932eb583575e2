import ACMEValidation
import MetadataStore

/// Expired ACME state leaves the store: nonces at once, orders and authorizations once they have been
/// past their expiry for `retention` (long enough for the per-identifier rate limit and for operators
/// to look back; certificates and audit entries stay).
extension ACMEService {
    /// What one sweep removed.
    public struct Sweep: Sendable, Hashable {
        public var nonces = 0
        public var orders = 0
        public var authorizations = 0
    }

    /// Removes expired nonces, and orders and authorizations expired more than `retention` ago, at most
    /// `limit` of each; an audit entry counts what went.
    @discardableResult
    public func sweep(retention: Duration = .seconds(30 * 86_400), limit: Int = 10_000) async throws -> Sweep {
        var result = Sweep()
        result.nonces = try await nonces.sweep(limit: limit)
        let before = EnrollmentService.now() - retention.nanoseconds
        (result.orders, result.authorizations) = try await store.write { txn in
            let orders = try txn.acmeOrders(expiringBefore: before, limit: limit)
            for order in orders { try txn.remove(ACMEOrderRecord.self, key: order.primaryKey) }
            let authorizations = try txn.acmeAuthorizations(expiringBefore: before, limit: limit)
            for authorization in authorizations {
                try txn.remove(ACMEAuthorizationRecord.self, key: authorization.primaryKey)
            }
            if !orders.isEmpty || !authorizations.isEmpty {
                try txn.appendAudit(
                    AuditEvent(
                        actor: "custos",
                        action: "acme.sweep",
                        object: "acme",
                        outcome: "success: removed \(orders.count) orders and \(authorizations.count) authorizations "
                            + "expired before the retention",
                        requestID: nil
                    )
                )
            }
            return (orders.count, authorizations.count)
        }
        return result
    }
}
