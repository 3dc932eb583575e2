import CMP
import Codecs
import Foundation
import MetadataStore

/// CMP transactions in the store: a first message opens one (a transactionID in use is refused; a
/// certificate request's is stored with its certificate or held request, in the same write), the
/// messages after it must come from the same client, carry the last answer's nonce and fit its state.
extension EnrollmentService {
    /// Closed transactions are kept this long, so that a replayed first message finds its id in use.
    static let cmpClosedTransactionNanoseconds: Int64 = 86_400_000_000_000

    /// The transaction a first message opens (`closed` at once for a message answered in one round, genm
    /// and rr), not stored yet.
    func newTransaction(_ exchange: CMPExchange, certReqID: Int, closed: Bool = false) -> CMPTransactionRecord {
        let now = Self.now()
        return CMPTransactionRecord(
            profile: exchange.profile.id,
            transactionID: exchange.transactionID,
            state: closed ? .closed : .open,
            requestBody: Int64(exchange.message.body.tag),
            certReqID: Int64(certReqID),
            client: exchange.clientName,
            macSecret: exchange.macSecretID,
            signerHash: exchange.signerHash,
            lastNonce: exchange.answerNonce,
            created: now,
            expires: now
                + (closed
                    ? Self.cmpClosedTransactionNanoseconds : Int64(exchange.policy.confirmWaitSeconds) * 1_000_000_000)
        )
    }

    /// Refuses a transactionID in use (`transactionIdInUse`): a repeated first message.
    func checkUnused(_ exchange: CMPExchange) async throws {
        let found = try await store.read {
            try $0.cmpTransaction(profile: exchange.profile.id, transactionID: exchange.transactionID)
        }
        guard found == nil else {
            throw CMPError(.transactionIdInUse, "transaction \(Hex.encode(exchange.transactionID)) was used before")
        }
    }

    /// Stores the transaction of a message answered in one round (genm, rr), closed; refuses an id in
    /// use (`transactionIdInUse`).
    func recordClosedTransaction(_ exchange: CMPExchange) async throws {
        let record = newTransaction(exchange, certReqID: 0, closed: true)
        try await store.write { txn in
            guard try txn.cmpTransaction(profile: record.profile, transactionID: record.transactionID) == nil else {
                throw CMPError(.transactionIdInUse, "transaction \(Hex.encode(record.transactionID)) was used before")
            }
            try txn.save(record)
        }
    }

    /// Saves a transaction's new state with this answer's nonce.
    func update(_ record: CMPTransactionRecord, _ exchange: CMPExchange, _ change: (inout CMPTransactionRecord) -> Void)
        async throws
    {
        var updated = record
        updated.lastNonce = exchange.answerNonce
        change(&updated)
        if updated.state == .closed { updated.expires = Self.now() + Self.cmpClosedTransactionNanoseconds }
        let saved = updated
        try await store.write { txn in try txn.save(saved) }
    }

    /// The transaction a later message continues, checked: same client, the last answer's nonce, one of
    /// `states`, not expired.
    func continuedTransaction(_ exchange: CMPExchange, states: Set<CMPTransactionRecord.State>) async throws
        -> CMPTransactionRecord
    {
        let found = try await store.read {
            try $0.cmpTransaction(profile: exchange.profile.id, transactionID: exchange.transactionID)
        }
        guard let record = found else {
            throw CMPError(.badRequest, "no transaction \(Hex.encode(exchange.transactionID)) is open")
        }
        guard record.macSecret == exchange.macSecretID, record.signerHash == exchange.signerHash else {
            throw CMPError(.notAuthorized, "the message is not protected by the client that began the transaction")
        }
        guard exchange.message.header.recipientNonce == record.lastNonce else {
            throw CMPError(.badRecipientNonce, "the recipNonce is not the senderNonce of the last answer")
        }
        guard states.contains(record.state) else {
            throw CMPError(
                .badRequest,
                "a \(exchange.message.body.name) does not fit transaction "
                    + "\(Hex.encode(exchange.transactionID)), which is \(record.state.rawValue)"
            )
        }
        if record.state == .awaitingConfirmation, record.expires < Self.now() {
            try await update(record, exchange) { $0.state = .closed }
            throw CMPError(.badTime, "the certConf came after the transaction's confirmation wait")
        }
        return record
    }
}

extension EnrollmentService {
    /// Closes transactions whose wait is over (a certConf that never came, a request that waited 30 days,
    /// one left open by a crash) and removes closed ones a day after they closed; returns how many it
    /// changed. A certificate whose certConf never came stays valid: the device may hold it and only the
    /// confirmation was lost. Several processes sharing a store may all sweep.
    public func sweepCMPTransactions(now: Int64? = nil, limit: Int = 1000) async throws(EnrollmentError) -> Int {
        let now = now ?? Self.now()
        do {
            let due = try await store.read { try $0.cmpTransactions(expiringBefore: now, limit: limit) }
            guard !due.isEmpty else { return 0 }
            return try await store.write { txn in
                var changed = 0
                for record in due {
                    guard
                        var current = try txn.cmpTransaction(
                            profile: record.profile,
                            transactionID: record.transactionID
                        ),
                        current.expires < now
                    else { continue }
                    if current.state == .closed {
                        try txn.remove(CMPTransactionRecord.self, key: current.primaryKey)
                    } else {
                        current.state = .closed
                        current.expires = now + Self.cmpClosedTransactionNanoseconds
                        try txn.save(current)
                    }
                    changed += 1
                }
                return changed
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }
}
