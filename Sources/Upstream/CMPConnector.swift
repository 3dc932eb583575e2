public import AsyncHTTPClient
public import CA
import CMP
import CustosX509
import Foundation
import SwiftASN1
import X509

/// Forwards requests to an upstream CA over CMP (RFC 9483's lightweight profile, HTTP transfer of
/// RFC 9811), as the RA acting on behalf of end entities (section 5.2):
///
/// - a client's PKCS#10 request that asks for exactly what is certified goes as a `p10cr`, so that its
///   own proof of possession travels; anything else as an `ir` with the template Custos checked and
///   `raVerified` proof of possession (Custos checked it);
/// - `waiting` answers are polled (`pollReq`) after the upstream's checkAfter, within the link's timeout;
/// - an issued certificate is confirmed (`certConf`, answered `pkiConf`) unless the upstream granted
///   implicit confirmation; revocations go as `rr`.
///
/// When the upstream cannot be reached or answers something that is not a CMP message, the request is
/// sent again in a new transaction, up to the link's `attempts`, with a growing pause, all within the
/// timeout; a CMP answer, refusals included, is final.
public struct CMPConnector: UpstreamConnector {
    let http: UpstreamHTTP

    /// A connector over `client`, by default one shared by every connector of the process.
    public init(client: HTTPClient? = nil) { http = UpstreamHTTP(client: client ?? UpstreamHTTP.shared) }

    public func enroll(_ request: UpstreamEnrollment) async throws(CAError) -> UpstreamCertificate {
        let body: PKIBody
        let certReqID: Int
        do {
            if let csr = request.csr {
                (body, certReqID) = (.p10cr(csr), -1)
            } else {
                var extensions: [Certificate.Extension] = []
                if !request.alternativeNames.isEmpty {
                    extensions.append(
                        try Certificate.Extension(
                            SubjectAlternativeNames(request.alternativeNames),
                            critical: request.subject.isEmpty
                        )
                    )
                }
                let template = CertTemplate(
                    subject: request.subject,
                    publicKeyInfo: request.publicKeyInfo,
                    extensions: extensions
                )
                body = .ir([try CertReqMessage(certReqID: 0, template: template, proofOfPossession: .raVerified)])
                certReqID = 0
            }
        } catch {
            throw CAError(.internalError, "the CMP request could not be written: \(error)")
        }
        return try await attempting(request.target) {
            var transaction = CMPUpstreamTransaction(target: request.target, http: http)
            var answer = try await transaction.send(body)
            while true {
                switch answer.body {
                case .ip(let reply), .cp(let reply):
                    guard let response = reply.responses.first(where: { $0.certReqID == certReqID }) else {
                        throw transaction.refused("answered without a response to request \(certReqID)")
                    }
                    switch response.status.status {
                    case .accepted, .grantedWithMods:
                        guard let certificate = response.certificate else {
                            throw transaction.refused("accepted the request without a certificate")
                        }
                        try await confirm(
                            certificate,
                            certReqID: certReqID,
                            answer: answer,
                            accept: request.accept,
                            in: &transaction
                        )
                        return UpstreamCertificate(
                            certificate: certificate,
                            extraCertificates: reply.caPubs + answer.extraCerts
                        )
                    case .waiting:
                        try await pause(seconds: 5, in: transaction)
                        answer = try await transaction.send(.pollReq([certReqID]))
                    default:
                        throw transaction.refused(
                            "refused the request: \(CMPUpstreamTransaction.describe(response.status))"
                        )
                    }
                case .pollRep(let polls):
                    try await pause(seconds: polls.first?.checkAfterSeconds ?? 5, in: transaction)
                    answer = try await transaction.send(.pollReq([certReqID]))
                case .error(let error):
                    throw transaction.refused("refused the request: \(CMPUpstreamTransaction.describe(error.status))")
                default:
                    throw transaction.refused("answered a certificate request with \(answer.body.name)")
                }
            }
        }
    }

    public func revoke(_ request: UpstreamRevocation) async throws(CAError) {
        let body: PKIBody
        do {
            let certificate = try Certificate(derEncoded: request.certificate)
            let template = CertTemplate(
                serialNumber: Array(certificate.serialNumber.bytes),
                issuer: certificate.issuer
            )
            body = .rr([RevocationDetails(certificate: template, reason: request.reason)])
        } catch {
            throw CAError(.internalError, "the CMP revocation request could not be written: \(error)")
        }
        try await attempting(request.target) {
            var transaction = CMPUpstreamTransaction(target: request.target, http: http)
            let answer = try await transaction.send(body)
            switch answer.body {
            case .rp(let reply):
                guard let status = reply.statuses.first else { throw transaction.refused("answered an empty rp") }
                guard status.status == .accepted || status.status == .grantedWithMods else {
                    throw transaction.refused("refused the revocation: \(CMPUpstreamTransaction.describe(status))")
                }
            case .error(let error):
                throw transaction.refused("refused the revocation: \(CMPUpstreamTransaction.describe(error.status))")
            default:
                throw transaction.refused("answered a revocation request with \(answer.body.name)")
            }
        }
    }

    /// Confirms an issued certificate unless the upstream granted implicit confirmation.
    /// A certificate the CA does not accept is rejected in the certConf (the upstream revokes it, RFC 9483
    /// section 4.1.1), or revoked with an rr when the upstream granted implicit confirmation.
    private func confirm(
        _ certificate: [UInt8],
        certReqID: Int,
        answer: PKIMessage,
        accept: @Sendable ([UInt8]) throws(CAError) -> Void,
        in transaction: inout CMPUpstreamTransaction
    ) async throws {
        var refusal: CAError?
        do { try accept(certificate) } catch { refusal = error }
        if answer.header.implicitConfirm {
            guard let refusal else { return }
            do {
                try await revoke(
                    UpstreamRevocation(
                        target: transaction.target,
                        certificate: certificate,
                        reason: 5,
                        requestID: nil
                    )
                )
            } catch let failure {
                throw CAError(refusal.code, refusal.message + "; revoking it there failed: \(failure.message)")
            }
            throw CAError(refusal.code, refusal.message + "; it was revoked there")
        }
        let parsed: Certificate
        do { parsed = try Certificate(derEncoded: certificate) } catch {
            throw transaction.refused("issued a certificate that does not parse")
        }
        guard let hash = CertStatus.confirmationHash(nil, certificate: parsed) else {
            throw transaction.refused(
                "issued a certificate signed with \(parsed.signatureAlgorithm), which CMP cannot confirm"
            )
        }
        let status =
            refusal.map { PKIStatusInfo(.rejection, [String($0.message.prefix(200))], failInfo: .badCertTemplate) }
            ?? PKIStatusInfo(.accepted)
        let confirmation = try await transaction.send(
            .certConf([CertStatus(certHash: hash(certificate), certReqID: certReqID, statusInfo: status)])
        )
        if let refusal {
            throw CAError(refusal.code, refusal.message + "; it was rejected in the certConf")
        }
        guard case .pkiConf = confirmation.body else {
            if case .error(let error) = confirmation.body {
                throw transaction.refused("refused the confirmation: \(CMPUpstreamTransaction.describe(error.status))")
            }
            throw transaction.refused("answered the confirmation with \(confirmation.body.name), not pkiConf")
        }
    }

    /// Waits as the upstream asked, unless that passes the deadline.
    private func pause(seconds: Int, in transaction: CMPUpstreamTransaction) async throws {
        let wait = Double(max(1, min(seconds, 600)))
        guard Date().addingTimeInterval(wait) < transaction.target.deadline else {
            throw CAError(
                .upstreamUnavailable,
                "upstream CA \(transaction.target.ca) still had the request waiting after "
                    + "\(transaction.target.link.timeoutSeconds) s; ask again later"
            )
        }
        try await Task.sleep(for: .seconds(wait))
    }
}
