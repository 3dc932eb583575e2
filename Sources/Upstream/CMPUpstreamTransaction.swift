import CA
import CMP
import CustosX509
import Foundation
import SwiftASN1
import X509

/// One CMP transaction of Custos's RA with an upstream CA (RFC 9483 section 5.2, an RA acting on
/// behalf of end entities): every message signed by the RA's HSM key with its certificate in extraCerts,
/// one transactionID, fresh nonces, and every answer checked before it is read: signed by a certificate
/// that chains to the link's response anchors, same transaction, our nonce echoed.
struct CMPUpstreamTransaction {
    let target: UpstreamTarget
    let http: UpstreamHTTP
    let transactionID = randomBytes(16)
    /// The upstream's last senderNonce: our next recipientNonce.
    private var theirNonce: [UInt8]?

    init(target: UpstreamTarget, http: UpstreamHTTP) {
        self.target = target
        self.http = http
    }

    /// Sends `body` and returns the upstream's checked answer. A transport failure (no answer, or not a
    /// CMP message) is `UpstreamHTTP.Failure`; an answer that fails its checks is `upstreamRefused`.
    mutating func send(_ body: PKIBody) async throws -> PKIMessage {
        let nonce = Self.randomBytes(16)
        guard let raDER = target.raCertificate else {
            throw CAError(.caNotUsable, "CA \(target.ca) has no RA certificate to sign CMP messages with")
        }
        let raCertificate = try Certificate(derEncoded: raDER)
        let signatureAlgorithm = target.raKey.defaultSignatureAlgorithm
        let header = PKIHeader(
            pvno: 2,
            sender: .directoryName(raCertificate.subject),
            recipient: .directoryName(target.caCertificate.subject),
            messageTime: try X509Time.generalizedTime(Int64(Date().timeIntervalSince1970)),
            protectionAlgorithm: try CMSAlgorithmIdentifier(signatureAlgorithm: signatureAlgorithm),
            senderKID: try raCertificate.extensions.subjectKeyIdentifier.map { Array($0.keyIdentifier) },
            transactionID: transactionID,
            senderNonce: nonce,
            recipientNonce: theirNonce
        )
        let key = target.raKey
        let message = try await PKIMessage(
            header: header,
            body: body,
            extraCerts: [raDER] + target.raChain
        ) { part in try await key.signatureValue(part, signatureAlgorithm: signatureAlgorithm) }
        let answerBytes = try await http.post(
            message.der,
            to: target.link.url,
            contentType: "application/pkixcmp",
            maxBytes: PKIMessage.maximumSize,
            deadline: target.deadline
        )
        let answer: PKIMessage
        do { answer = try PKIMessage(derEncoded: answerBytes) } catch {
            throw UpstreamHTTP.Failure(description: "its answer is not a CMP message (\(error.reason))")
        }
        try await check(answer, nonce: nonce)
        theirNonce = answer.header.senderNonce
        return answer
    }

    /// The answer belongs to this transaction and answers our message, and its signer is trusted.
    private func check(_ answer: PKIMessage, nonce: [UInt8]) async throws(CAError) {
        guard answer.header.transactionID == transactionID, answer.header.recipientNonce == nonce else {
            throw refused("answered with another transactionID or without our nonce")
        }
        guard answer.protection != nil, let protection = try? answer.messageProtection() else {
            if case .error(let error) = answer.body {
                throw refused("sent an unprotected error: \(Self.describe(error.status))")
            }
            throw refused("sent an unprotected answer")
        }
        guard case .signature = protection else {
            throw refused("protected its answer with a MAC; Custos shares no secret with it and needs a signature")
        }
        let anchors: [Certificate]
        do { anchors = try target.link.responseAnchors.map { try Certificate(derEncoded: $0) } } catch {
            throw CAError(.internalError, "the stored response anchors of CA \(target.ca) do not parse")
        }
        var signers: [Certificate]
        do { signers = try answer.extraCertificates() } catch { throw refused("sent extraCerts that do not parse") }
        if signers.isEmpty, case .directoryName(let sender) = answer.header.sender {
            // No extraCerts (OpenSSL leaves out a self-signed signer): a pinned anchor may be the signer.
            signers = anchors.filter { $0.subject == sender }.prefix(1).map { $0 }
        }
        guard let signer = signers.first else { throw refused("signed its answer without its certificate") }
        do { try answer.verifySignature(certificate: signer) } catch {
            throw refused("sent an answer whose signature does not verify (\(error.reason))")
        }
        var verifier = Verifier(rootCertificates: CertificateStore(anchors)) { RFC5280Policy() }
        let result = await verifier.validate(leaf: signer, intermediates: CertificateStore(Array(signers.dropFirst())))
        guard case .validCertificate = result else {
            throw refused(
                "signed its answer as \"\(DistinguishedNameText.format(signer.subject))\", which does not chain to "
                    + "the CA's response anchors"
            )
        }
    }

    func refused(_ what: String) -> CAError {
        CAError(.upstreamRefused, "upstream CA \(target.ca) \(what)")
    }

    /// A status for messages: its status, failure bits and text.
    static func describe(_ status: PKIStatusInfo) -> String {
        var text = "\(status.status)"
        if let failInfo = status.failInfo, !failInfo.isEmpty { text += " (\(failInfo))" }
        if !status.statusString.isEmpty { text += ": " + status.statusString.joined(separator: "; ").prefix(300) }
        return text
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
