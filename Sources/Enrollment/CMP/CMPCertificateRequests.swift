import CA
import CMP
import Codecs
import Crypto
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import X509

/// CMP's certificate requests (ir, cr, kur, p10cr; RFC 9483 sections 4.1.1 to 4.1.4), their confirmation
/// (certConf/pkiConf) and polling while an officer decides (pollReq/pollRep, section 4.4).
extension EnrollmentService {
    func certificateRequest(_ exchange: inout CMPExchange) async throws -> CMPReply {
        let body = exchange.message.body
        var operation = EnrollmentRequest.Operation.enroll
        let csr: [UInt8]
        var proven: ProvenRequest?
        let certReqID: Int
        switch body {
        case .p10cr(let der):
            csr = der
            certReqID = -1  // a p10cr's answer names no request id (RFC 9483 section 4.1.4)
        case .ir(let requests), .cr(let requests), .kur(let requests):
            guard requests.count == 1, let request = requests.first else {
                throw CMPError(.badRequest, "a \(body.name) carries exactly one certificate request")
            }
            guard request.certReqID == 0 else {
                throw CMPError(.badRequest, "the certReqId of a single request is 0 (RFC 9483 section 4.1.1)")
            }
            try checkProofOfPossession(request, exchange)
            if case .kur = body {
                operation = .reenroll
                try checkOldCertificate(request, exchange)
            }
            proven = try RequestedCertificate.proven(request)
            csr = request.certRequestDER
            certReqID = 0
        default: throw CMPError(.badRequest, "not a certificate request")
        }
        try await checkUnused(exchange)
        var transaction = newTransaction(exchange, certReqID: certReqID)
        transaction.implicitConfirm = exchange.message.header.implicitConfirm && exchange.policy.implicitConfirm
        var request = EnrollmentRequest(
            profile: exchange.profile.id,
            protocolName: .cmp,
            operation: operation,
            csr: csr,
            credentials: exchange.credentials,
            transaction: Hex.encode(exchange.transactionID),
            requestID: exchange.requestID,
            proven: proven
        )
        // The transaction is stored with the certificate or the held request, in one write that also
        // refuses it if a copy of this message raced this one there (a later copy was refused above).
        let (begun, confirmWait) = (transaction, exchange.policy.confirmWaitSeconds)
        request.alsoWrite = { txn, stored in
            guard try txn.cmpTransaction(profile: begun.profile, transactionID: begun.transactionID) == nil else {
                throw CAError(.conflict, "CMP transaction \(Hex.encode(begun.transactionID)) was used before")
            }
            var record = begun
            Self.record(stored, in: &record, confirmWaitSeconds: confirmWait)
            try txn.save(record)
        }
        let outcome = try await enroll(request)
        // An outcome enroll() found stored earlier wrote nothing: record it now.
        let stored = try await store.read {
            try $0.cmpTransaction(profile: begun.profile, transactionID: begun.transactionID)
        }
        return try await reply(outcome, transaction: transaction, exchange, recorded: stored != nil)
    }

    /// A transaction's state once its certificate is issued or its request held.
    private static func record(
        _ stored: EnrollmentStored,
        in record: inout CMPTransactionRecord,
        confirmWaitSeconds: Int
    ) {
        switch stored {
        case .held(let held):
            record.state = .waiting
            record.enrollmentRequest = held.id
            record.expires = now() + 30 * 86_400_000_000_000
        case .issued(let certificate):
            record.state = record.implicitConfirm ? .closed : .awaitingConfirmation
            record.ca = certificate.issuer
            record.serial = certificate.serial
            record.expires =
                now()
                + (record.implicitConfirm ? cmpClosedTransactionNanoseconds : Int64(confirmWaitSeconds) * 1_000_000_000)
        }
    }

    /// The answer for an enrollment outcome (now or at a poll), with the transaction's new state (stored
    /// here unless it was `recorded` with the outcome).
    private func reply(
        _ outcome: EnrollmentOutcome,
        transaction: CMPTransactionRecord,
        _ exchange: CMPExchange,
        recorded: Bool = false
    ) async throws -> CMPReply {
        let id = Int(transaction.certReqID)
        let confirmWait = exchange.policy.confirmWaitSeconds
        switch outcome {
        case .pending(let held):
            if !recorded {
                try await update(transaction, exchange) {
                    Self.record(.held(held), in: &$0, confirmWaitSeconds: confirmWait)
                }
            }
            let content = CertRepMessage(responses: [
                .init(certReqID: id, status: PKIStatusInfo(.waiting, ["request \(held.id) waits for an officer"]))
            ])
            return CMPReply(Self.certificateAnswer(to: transaction.requestBody, content))
        case .issued(let record, let chain):
            if !recorded {
                try await update(transaction, exchange) {
                    Self.record(.issued(record), in: &$0, confirmWaitSeconds: confirmWait)
                }
            }
            // A client that proved itself with a shared secret learns its trust anchor here (RFC 9483
            // section 4.1.1): the root of the issuing chain.
            let caPubs: [[UInt8]] = if case .mac = exchange.protection, let root = chain.last { [root] } else { [] }
            let content = CertRepMessage(
                caPubs: caPubs,
                responses: [.init(certReqID: id, status: PKIStatusInfo(.accepted), certificate: record.der)]
            )
            var reply = CMPReply(
                Self.certificateAnswer(to: transaction.requestBody, content),
                implicitConfirm: transaction.implicitConfirm
            )
            reply.extraCerts = chain
            return reply
        }
    }

    /// ip for an ir, kup for a kur, cp for a cr or p10cr.
    private static func certificateAnswer(to requestBody: Int64, _ content: CertRepMessage) -> PKIBody {
        switch requestBody {
        case 0: .ip(content)
        case 7: .kup(content)
        default: .cp(content)
        }
    }

    /// A signature by the requested key; raVerified only from a registration authority the profile
    /// trusts (a certificate with id-kp-cmcRA that signed the request or the nested message around it;
    /// enrollment then checks that it chains to the profile's anchors).
    private func checkProofOfPossession(_ request: CertReqMessage, _ exchange: CMPExchange) throws {
        switch request.proofOfPossession {
        case .signature: try request.verifyProofOfPossession()
        case .raVerified:
            guard exchange.forwardingRA != nil || exchange.signer.map(Self.isRegistrationAuthority) == true else {
                throw CMPError(.badPOP, "raVerified is accepted only from a registration authority")
            }
        case nil where request.template.publicKeyInfo == nil:
            throw CMPError(.badCertTemplate, "central key generation (a template without a key) is not implemented yet")
        case nil: throw CMPError(.badPOP, "the request has no proof of possession")
        case .indirect: throw CMPError(.badPOP, "only signature proofs of possession are accepted")
        }
    }

    /// A kur is signed with the certificate it replaces; the oldCertID control, if sent, names it.
    private func checkOldCertificate(_ request: CertReqMessage, _ exchange: CMPExchange) throws {
        guard let signer = exchange.signer else {
            throw CMPError(.notAuthorized, "a kur is signed with the certificate being updated")
        }
        if let old = try request.oldCertificateID() {
            guard old.issuer == .directoryName(signer.issuer), old.serial == Array(signer.serialNumber.bytes) else {
                throw CMPError(.badCertId, "the oldCertID is not the certificate that signed the kur")
            }
        }
    }

    func confirm(_ statuses: [CertStatus], _ exchange: CMPExchange) async throws -> CMPReply {
        let transaction = try await continuedTransaction(exchange, states: [.awaitingConfirmation])
        guard statuses.count == 1, let status = statuses.first, status.certReqID == Int(transaction.certReqID),
            let ca = transaction.ca, let serial = transaction.serial
        else {
            try await update(transaction, exchange) { $0.state = .closed }
            throw CMPError(.badCertId, "the certConf does not name the certificate of this transaction")
        }
        let record = try await authority.certificate(ca: ca, serial: Hex.encode(serial))
        let certificate = try Certificate(derEncoded: record.der)
        guard let hash = CertStatus.confirmationHash(status.hashAlgorithm, certificate: certificate),
            constantTimeEqual(hash(record.der), status.certHash)
        else {
            try await update(transaction, exchange) { $0.state = .closed }
            throw CMPError(.badCertId, "the certHash is not the hash of the certificate sent")
        }
        try await update(transaction, exchange) { $0.state = .closed }
        if status.accepted {
            await auditCMP(
                exchange.profile,
                client: exchange.clientName,
                body: "certConf",
                outcome: "success: certificate/\(ca)/\(Hex.encode(serial)) accepted",
                exchange.requestID
            )
        } else {
            // A certificate its requester refuses must not stay valid (RFC 9483 section 4.1.1).
            _ = try await authority.revoke(
                ca: ca,
                serial: Hex.encode(serial),
                reason: .cessationOfOperation,
                requester: Requester(
                    actor: "cmp/\(exchange.profile.id)/\(exchange.clientName)",
                    requestID: exchange.requestID
                )
            )
        }
        return CMPReply(.pkiConf)
    }

    func poll(_ ids: [Int], _ exchange: CMPExchange) async throws -> CMPReply {
        let transaction = try await continuedTransaction(exchange, states: [.waiting])
        guard ids == [Int(transaction.certReqID)], let held = transaction.enrollmentRequest else {
            throw CMPError(.badCertId, "the pollReq does not name the request of this transaction")
        }
        let result: EnrollmentOutcome
        do { result = try await outcome(ofHeld: held, profile: exchange.profile) } catch {
            try? await update(transaction, exchange) { $0.state = .closed }
            throw error
        }
        if case .pending = result {
            try await update(transaction, exchange) { _ in }
            return CMPReply(
                .pollRep([
                    PollResponse(
                        certReqID: Int(transaction.certReqID),
                        checkAfterSeconds: exchange.policy.checkAfterSeconds,
                        reason: ["request \(held) waits for an officer"]
                    )
                ])
            )
        }
        return try await reply(result, transaction: transaction, exchange)
    }
}
