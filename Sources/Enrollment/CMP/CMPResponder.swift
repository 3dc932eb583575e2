import CA
import CMP
import Codecs
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import X509

/// CMP (RFC 9810) over enrollment profiles, as the Lightweight CMP Profile (RFC 9483) has it: every
/// message's header and protection are checked (a MAC under a secret of the profile, or a signature by
/// a certificate the profile trusts), its body answered, and the answer protected the same way (a MAC
/// under the same secret, else a signature by the CA's registration authority key in the HSM).
/// Refusals are error messages with `PKIFailureInfo` bits; every refusal is an audit entry.
extension EnrollmentService {
    /// The answer (DER) to the CMP message `message` for profile `id`. Throws only when no CMP answer
    /// can be made: an unknown profile (`unknownProfile`), or an HSM or store that fails
    /// (`unavailable`, `internalError`).
    public func cmpMessage(profile id: String, message bytes: [UInt8], requestID: String?)
        async throws(EnrollmentError) -> [UInt8]
    {
        let profile = try await cmpProfile(id)
        let ra = try await registrationAuthority(for: profile, protocolName: .cmp, requestID: requestID)
        let message: PKIMessage
        do { message = try PKIMessage(derEncoded: bytes) } catch {
            await auditCMP(profile, client: "anonymous", body: "message", outcome: "refused: \(error)", requestID)
            return try await answer(CMPReply(error: error), to: nil, profile: profile, ra: ra)
        }
        return try await answer(message, profile: profile, ra: ra, requestID: requestID, forwardedBy: nil)
    }

    /// The answer to one message read: a message from a client, or one a registration authority forwarded
    /// inside a nested message (`forwardedBy` its certificate).
    private func answer(
        _ message: PKIMessage,
        profile: EnrollmentProfile,
        ra: RegistrationAuthorityRecord,
        requestID: String?,
        forwardedBy: Certificate?
    ) async throws(EnrollmentError) -> [UInt8] {
        var exchange = CMPExchange(message: message, profile: profile, requestID: requestID)
        exchange.forwardingRA = forwardedBy
        do {
            try checkHeader(exchange)
            try await checkProtection(&exchange)
            if case .nested(let inner) = message.body {
                return try await nested(inner, exchange, ra: ra)
            }
            let reply = try await reply(to: &exchange)
            return try await answer(reply, to: exchange, profile: profile, ra: ra)
        } catch let error as EnrollmentError
            where [.unavailable, .storeUnavailable, .internalError].contains(error.code)
        {
            throw error
        } catch {
            let refusal = CMPError.from(error)
            // enroll() audits its own refusals; the others are audited here.
            if !(error is EnrollmentError) {
                await auditCMP(
                    profile,
                    client: exchange.clientName,
                    body: message.body.name,
                    outcome: "refused: \(refusal)",
                    requestID
                )
            }
            return try await answer(CMPReply(error: refusal), to: exchange, profile: profile, ra: ra)
        }
    }

    /// Messages a downstream registration authority forwards (RFC 9483 section 5.2.2): the nested message
    /// is signed by a certificate with id-kp-cmcRA the profile trusts; each inner message is checked and
    /// answered as if it came alone, except that a proof of possession the RA verified counts. One inner
    /// message (the RA adding its protection) gets its answer as it is; several (a batch) get a nested
    /// answer with theirs in the same order, signed by the CA's RA.
    private func nested(_ inner: [PKIMessage], _ exchange: CMPExchange, ra: RegistrationAuthorityRecord)
        async throws -> [UInt8]
    {
        guard exchange.forwardingRA == nil else { throw CMPError(.badRequest, "a nested message holds another") }
        guard (1...32).contains(inner.count) else {
            throw CMPError(.badRequest, "a nested message holds 1 to 32 messages")
        }
        guard let signer = exchange.signer, Self.isRegistrationAuthority(signer) else {
            throw CMPError(.notAuthorized, "nested messages come from a registration authority (id-kp-cmcRA)")
        }
        _ = try await authenticate(exchange.credentials, for: exchange.profile)
        var answers: [[UInt8]] = []
        for message in inner {
            answers.append(
                try await answer(
                    message,
                    profile: exchange.profile,
                    ra: ra,
                    requestID: exchange.requestID,
                    forwardedBy: signer
                )
            )
        }
        if answers.count == 1 { return answers[0] }
        let batch = try answers.map { answer throws(CMPError) in try PKIMessage(derEncoded: answer) }
        return try await answer(CMPReply(.nested(batch)), to: exchange, profile: exchange.profile, ra: ra)
    }

    /// Whether a certificate is a registration authority's (id-kp-cmcRA).
    static func isRegistrationAuthority(_ certificate: Certificate) -> Bool {
        (try? certificate.extensions.extendedKeyUsage?.contains(ExtendedKeyUsage.Usage(oid: CMPObjectIdentifiers.cmcRA)))
            == true
    }

    /// The profile, which must offer CMP.
    func cmpProfile(_ id: String) async throws(EnrollmentError) -> EnrollmentProfile {
        let profile = try await profile(id)
        guard profile.protocols.contains(.cmp) else {
            throw EnrollmentError(.unknownProfile, "profile \(profile.id) does not offer CMP")
        }
        return profile
    }

    /// pvno, transactionID, senderNonce and messageTime (RFC 9483 section 3.1).
    private func checkHeader(_ exchange: CMPExchange) throws(CMPError) {
        let header = exchange.message.header
        guard header.pvno == 2 || header.pvno == 3 else {
            throw CMPError(.unsupportedVersion, "pvno \(header.pvno) is not cmp2000 (2) or cmp2021 (3)")
        }
        guard let transactionID = header.transactionID, (16...64).contains(transactionID.count) else {
            throw CMPError(.badRequest, "the transactionID is missing or not 16 to 64 bytes")
        }
        guard let nonce = header.senderNonce, (16...64).contains(nonce.count) else {
            throw CMPError(.badSenderNonce, "the senderNonce is missing or not 16 to 64 bytes")
        }
        if let time = header.messageTime {
            let skew = Double(exchange.policy.messageTimeSkewSeconds)
            let sent = CMPTime.date(time)
            guard abs(sent.timeIntervalSinceNow) <= skew else {
                throw CMPError(.badTime, "the messageTime \(sent) is more than \(Int(skew)) s from the server's clock")
            }
        }
    }

    /// Checks the message's protection and records who protected it.
    private func checkProtection(_ exchange: inout CMPExchange) async throws {
        let message = exchange.message
        let kind = try message.messageProtection()
        if kind.isMAC {
            // The senderKID names the secret: the id Custos showed when it made it.
            guard let kid = message.header.senderKID, let id = String(bytes: kid, encoding: .utf8),
                let secret = try await store.read({ try $0.enrollmentSecret(id: id) }),
                secret.profile == exchange.profile.id
            else {
                throw CMPError(.signerNotTrusted, "the senderKID names no secret of profile \(exchange.profile.id)")
            }
            // The secret is opened for the instant its MAC key is derived; the key checks this message and
            // makes the answer's (same parameters), and is wiped when the answer is made.
            var value = try await openSealedSecret(secret)
            let derived: [UInt8]?
            do { derived = try kind.key(secret: value) } catch {
                for index in value.indices { value[index] = 0 }
                throw CMPError(.badAlg, "the MAC key cannot be derived: \(error)")
            }
            for index in value.indices { value[index] = 0 }
            let key = OpenedSecret(derived ?? [])
            try message.verifyMAC(key: key.bytes)
            exchange.protection = .mac(secret, kind, key)
            exchange.credentials = ClientCredentials(macSecret: secret)
            exchange.clientName = "secret/\(secret.id)"
            return
        }
        let certificates = try message.extraCertificates()
        guard let signer = certificates.first else {
            throw CMPError(.badMessageCheck, "a signed message carries its signer's certificate first in extraCerts")
        }
        try message.verifySignature(certificate: signer)
        guard case .directoryName(let sender) = message.header.sender, sender == signer.subject else {
            throw CMPError(.badMessageCheck, "the sender is not the subject of the signer's certificate")
        }
        exchange.protection = .signature(signer, hash: Self.sha256(message.extraCerts[0]))
        exchange.credentials = ClientCredentials(certificateChain: certificates)
        exchange.clientName = "certificate/\(DistinguishedNameText.format(signer.subject))"
    }

    /// The answer's body for a checked message.
    private func reply(to exchange: inout CMPExchange) async throws -> CMPReply {
        switch exchange.message.body {
        case .ir, .cr, .kur, .p10cr: return try await certificateRequest(&exchange)
        case .certConf(let statuses): return try await confirm(statuses, exchange)
        case .pollReq(let ids): return try await poll(ids, exchange)
        case .rr(let revocations): return try await revoke(revocations, exchange)
        case .genm(let items): return try await generalMessage(items, exchange)
        default:
            throw CMPError(.badRequest, "a \(exchange.message.body.name) is not a request this server answers")
        }
    }

    /// Writes the answer: header, body, protection (as the request was protected when that was checked,
    /// else by the RA's signature) and extraCerts.
    private func answer(
        _ reply: CMPReply,
        to exchange: CMPExchange?,
        profile: EnrollmentProfile,
        ra: RegistrationAuthorityRecord
    )
        async throws(EnrollmentError) -> [UInt8]
    {
        do {
            let raCertificate = try ParsedCertificates.certificate(ra.certificate)
            let request = exchange?.message.header
            var generalInfo: [InfoTypeAndValue] = []
            if reply.implicitConfirm {
                generalInfo.append(InfoTypeAndValue(CMPObjectIdentifiers.implicitConfirm, value: [0x05, 0x00]))
            }
            var header = PKIHeader(
                pvno: request?.pvno == 3 ? 3 : 2,
                sender: .directoryName(raCertificate.subject),
                recipient: request?.sender ?? .directoryName(DistinguishedName()),
                messageTime: try X509Time.generalizedTime(Int64(Date().timeIntervalSince1970)),
                transactionID: request?.transactionID,
                senderNonce: exchange?.answerNonce ?? Self.randomBytes(16),
                recipientNonce: request?.senderNonce,
                generalInfo: generalInfo
            )
            // The issuing chain, unless the reply names its own (a certificate answer has it already).
            let chain: [[UInt8]]
            if let own = reply.extraCerts {
                chain = own
            } else {
                chain = try await authority.chain(profile.ca).map { try derBytes($0) }
            }
            if case .mac(_, let kind, let key) = exchange?.protection {
                defer { key.wipe() }
                // The request's MAC parameters, salt included: the answer's key is the one derived already.
                header.protectionAlgorithm = request?.protectionAlgorithm
                header.senderKID = request?.senderKID
                let message = try await PKIMessage(
                    header: header,
                    body: reply.body,
                    extraCerts: chain
                ) { part in kind.authenticationCode(key: key.bytes, data: part) }
                return message.der
            }
            // The RA's key signs: RSA-2048 for a CA's own RA, any algorithm for an upstream CA's.
            let key = try await authority.privateKey(try authority.signing.keys.serviceKey(ra.keyName))
            let algorithm = key.defaultSignatureAlgorithm
            header.protectionAlgorithm = try CMSAlgorithmIdentifier(signatureAlgorithm: algorithm)
            header.senderKID = try raCertificate.extensions.subjectKeyIdentifier.map { Array($0.keyIdentifier) }
            let message = try await PKIMessage(
                header: header,
                body: reply.body,
                extraCerts: [ra.certificate] + chain
            ) { part in try await key.signatureValue(part, signatureAlgorithm: algorithm) }
            return message.der
        } catch let error as EnrollmentError {
            throw error
        } catch {
            throw EnrollmentError(.unavailable, "the CMP answer could not be protected: \(error)")
        }
    }

    /// An audit entry for a CMP message (refusals that enroll() did not record, confirmations).
    func auditCMP(_ profile: EnrollmentProfile, client: String, body: String, outcome: String, _ requestID: String?)
        async
    {
        let event = AuditEvent(
            actor: "cmp/\(profile.id)/\(client)",
            action: outcome.hasPrefix("refused") ? "enrollment.refused" : "cmp.\(body)",
            object: "enrollment-profile/\(profile.id)",
            outcome: "\(body): \(outcome)".prefix(600).description,
            requestID: requestID
        )
        _ = try? await store.write { txn in try txn.appendAudit(event) }
    }
}

/// One CMP message being answered: the message, its profile, and who protected it once that is checked.
struct CMPExchange {
    enum Protection {
        case unchecked
        case mac(EnrollmentSecretRecord, MessageProtection, OpenedSecret)
        /// The signer's certificate and the SHA-256 of its DER.
        case signature(Certificate, hash: [UInt8])
    }

    let message: PKIMessage
    let profile: EnrollmentProfile
    let requestID: String?
    var protection = Protection.unchecked
    /// The registration authority that forwarded this message in a nested one, if any.
    var forwardingRA: Certificate?
    var credentials = ClientCredentials()
    var clientName = "anonymous"
    /// The senderNonce of the answer (chosen first: transactions keep it).
    let answerNonce = EnrollmentService.randomBytes(16)

    init(message: PKIMessage, profile: EnrollmentProfile, requestID: String?) {
        self.message = message
        self.profile = profile
        self.requestID = requestID
    }

    var policy: CMPPolicy { profile.cmp ?? CMPPolicy() }
    var transactionID: [UInt8] { message.header.transactionID ?? [] }
    var macSecretID: String? { if case .mac(let secret, _, _) = protection { secret.id } else { nil } }
    var signerHash: [UInt8]? { if case .signature(_, let hash) = protection { hash } else { nil } }
    var signer: Certificate? { if case .signature(let certificate, _) = protection { certificate } else { nil } }
}

/// The MAC key derived from a shared secret for one message: held while the message's MAC is checked and
/// its answer's made, wiped right after (and when released in any case).
final class OpenedSecret: @unchecked Sendable {  // used by the one task answering the message
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func wipe() {
        for index in bytes.indices { bytes[index] = 0 }
        bytes = []
    }

    deinit { wipe() }
}

/// What to answer: a body, whether implicit confirmation is granted, and extraCerts other than the
/// issuing chain.
struct CMPReply {
    var body: PKIBody
    var implicitConfirm = false
    var extraCerts: [[UInt8]]?

    init(_ body: PKIBody, implicitConfirm: Bool = false) {
        self.body = body
        self.implicitConfirm = implicitConfirm
    }

    init(error: CMPError) {
        body = .error(ErrorMessage(status: PKIStatusInfo(rejecting: error)))
    }
}

enum CMPTime {
    /// A GeneralizedTime as a date (whole seconds).
    static func date(_ time: GeneralizedTime) -> Date {
        var components = DateComponents()
        components.year = time.year
        components.month = time.month
        components.day = time.day
        components.hour = time.hours
        components.minute = time.minutes
        components.second = time.seconds
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components) ?? .distantPast
    }
}

extension CMPError {
    /// The failure bits for an error on the way: CMP's own, or an enrollment refusal mapped.
    static func from(_ error: any Error) -> CMPError {
        switch error {
        case let error as CMPError: return error
        case let error as EnrollmentError:
            let bits: PKIFailureInfo =
                switch error.code {
                case .unauthenticated: .signerNotTrusted
                case .forbidden, .rejected: .notAuthorized
                case .invalidCSR, .policyViolation: .badCertTemplate
                case .unknownRequest: .badCertId
                case .unavailable, .storeUnavailable, .upstreamUnavailable: .systemUnavail
                case .internalError: .systemFailure
                default: .badRequest
                }
            return CMPError(bits, error.message)
        default: return CMPError(.systemFailure, "\(error)")
        }
    }
}
