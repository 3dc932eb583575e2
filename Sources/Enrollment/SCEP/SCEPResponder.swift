import CA
import Codecs
import Crypto
import CustosX509
import Foundation
import HSM
import MetadataStore
import PKCS11
import SCEP
import SwiftASN1
import X509
import _CryptoExtras

/// SCEP (RFC 8894) over enrollment profiles: the CA certificates with the RA's, and PKIOperation
/// messages opened with the RA key in the HSM and answered with CertReps it signs there.
extension EnrollmentService {
    /// GetCACert: a certs-only SignedData with the RA certificate and the profile's CA chain (issuing CA
    /// first, root included: clients establish trust in the RA from the root).
    public func scepCACertificates(profile id: String, requestID: String?) async throws(EnrollmentError) -> [UInt8] {
        let profile = try await scepProfile(id)
        let ra = try await registrationAuthority(for: profile, requestID: requestID)
        do {
            let chain = try await authority.chain(profile.ca).map { try derBytes($0) }
            return try CMSSignedDataMessage(content: nil, certificates: [ra.certificate] + chain).der()
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// PKIOperation: the CertRep (DER) answering `message`. Refusals the client can be told about are
    /// CertReps with FAILURE and a failInfo; a message that cannot be answered at all (not a SignedData,
    /// no transactionID) throws `invalidInput`, and a store or HSM failure `unavailable`/`internalError`.
    /// Every message leaves an audit entry.
    public func scepOperation(profile id: String, message: [UInt8], requestID: String?) async throws(EnrollmentError)
        -> [UInt8]
    {
        let profile: EnrollmentProfile
        let request: SCEPRequest
        do {
            profile = try await scepProfile(id)
            request = try SCEPRequest(derEncoded: message)
        } catch let error as SCEPError {
            await auditRefusal(
                protocolName: .scep,
                profile: id,
                operation: .enroll,
                client: "anonymous",
                reason: "unreadable PKIOperation: \(error)",
                requestID: requestID
            )
            throw EnrollmentError(.invalidInput, "the PKIOperation message cannot be answered: \(error.reason)")
        } catch {
            let refusal = EnrollmentError.from(error)
            await auditRefusal(
                protocolName: .scep,
                profile: id,
                operation: .enroll,
                client: "anonymous",
                reason: "\(refusal.code): \(refusal.message)",
                requestID: requestID
            )
            throw refusal
        }
        let ra = try await registrationAuthority(for: profile, requestID: requestID)
        // How CMS names the RA's certificate: read once, for the envelope's recipient and the CertRep's signer.
        let raName: IssuerAndSerialNumber
        do { raName = try IssuerAndSerialNumber(certificate: ra.certificate) } catch {
            throw EnrollmentError(.internalError, "the RA certificate of CA \(profile.ca) does not read: \(error)")
        }
        var reply = SCEPReply(
            status: .failure,
            transactionID: request.transactionID,
            recipientNonce: request.senderNonce,
            senderNonce: []
        )
        do {
            let answer = try await answer(request, profile: profile, ra: ra, raName: raName, requestID: requestID)
            reply.status = answer.status
            reply.envelope = answer.envelope
        } catch let error as SCEPError {
            reply.failInfo = error.failInfo
            await auditSCEP(request, profile: profile, outcome: "failure \(error)", requestID: requestID)
        } catch let error as EnrollmentError where [.unavailable, .internalError].contains(error.code) {
            throw error
        } catch let error as EnrollmentError {
            // enroll() has written its own audit entry for the refusal.
            reply.failInfo = error.code == .unknownRequest ? .badCertID : .badRequest
        } catch {
            throw EnrollmentError.from(error)
        }
        return try await sign(reply, ra: ra, raName: raName)
    }

    /// The profile, which must offer SCEP.
    func scepProfile(_ id: String) async throws(EnrollmentError) -> EnrollmentProfile {
        let profile = try await profile(id)
        guard profile.protocols.contains(.scep) else {
            throw EnrollmentError(.unknownProfile, "profile \(profile.id) does not offer SCEP")
        }
        return profile
    }

    /// The profile CA's registration authority (made or renewed first if due): it signs SCEP's CertReps
    /// and CMP's answers.
    func registrationAuthority(
        for profile: EnrollmentProfile,
        protocolName: EnrollmentProfile.EnrollmentProtocol = .scep,
        requestID: String?
    ) async throws(EnrollmentError) -> RegistrationAuthorityRecord {
        do {
            return try await authority.registrationAuthority(
                ca: profile.ca,
                requester: Requester(actor: "\(protocolName.rawValue)/\(profile.id)", requestID: requestID)
            )
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// What to answer a readable message: its status and, on success, the envelope for the requester.
    /// Throws `SCEPError` for a FAILURE CertRep, `EnrollmentError` from enrollment.
    private func answer(
        _ request: SCEPRequest,
        profile: EnrollmentProfile,
        ra: RegistrationAuthorityRecord,
        raName: IssuerAndSerialNumber,
        requestID: String?
    ) async throws -> (status: SCEPStatus, envelope: [UInt8]?) {
        guard let type = request.messageType, type != .certRep else {
            throw SCEPError(.badRequest, "message type \(request.messageTypeText) is not a request this server answers")
        }
        let signer = try request.verify()
        let envelope = try request.envelope()
        let content = try await open(envelope, ra: ra, raName: raName)
        let recipient = try Self.recipientKey(signer)
        // What the answer carries; every operation but an enrollment (which `enroll` audits) is audited here.
        let certificates: [[UInt8]]
        var crls: [[UInt8]] = []
        var audited: String?
        switch type {
        case .pkcsReq, .renewalReq:
            let outcome = try await enroll(
                request,
                type: type,
                csr: content,
                signer: signer,
                profile: profile,
                requestID: requestID
            )
            guard case .issued(let record, _) = outcome else { return (.pending, nil) }
            certificates = [record.der]
        case .certPoll:
            _ = try IssuerAndSubject(derEncoded: content)
            let keyHash = Self.sha256(try derBytes(signer.publicKey))
            let outcome: EnrollmentOutcome
            do {
                outcome = try await poll(profile: profile, transaction: request.transactionID, keyHash: keyHash)
            } catch {
                await auditSCEP(
                    request,
                    profile: profile,
                    outcome: "refused: \(error.code): \(error.message)",
                    requestID: requestID
                )
                throw error
            }
            guard case .issued(let record, _) = outcome else {
                await auditSCEP(request, profile: profile, outcome: "pending", requestID: requestID)
                return (.pending, nil)
            }
            certificates = [record.der]
            audited = "success: certificate \(Hex.encode(record.serial))"
        case .getCert:
            let record = try await certificate(named: content, profile: profile)
            certificates = [record.der]
            audited = "success: certificate \(Hex.encode(record.serial))"
        case .getCRL:
            _ = try await certificate(named: content, profile: profile)
            let crl = try await authority.crls.current(profile.ca)
            (certificates, crls) = ([], [crl.der])
            audited = "success: CRL \(crl.number)"
        case .certRep:
            throw SCEPError(.badRequest, "a CertRep is not a request")
        }
        if let audited { await auditSCEP(request, profile: profile, outcome: audited, requestID: requestID) }
        let degenerate = try CMSSignedDataMessage(content: nil, certificates: certificates, crls: crls).der()
        return (.success, try await seal(degenerate, to: recipient, like: envelope))
    }

    /// A PKCSReq or RenewalReq through `enroll`: the challenge password authenticates a first request; a
    /// signer certificate that is not self-signed (the one being renewed, or an IDevID) is presented as
    /// the client's certificate, its key proven by the message signature.
    private func enroll(
        _ request: SCEPRequest,
        type: SCEPMessageType,
        csr: [UInt8],
        signer: Certificate,
        profile: EnrollmentProfile,
        requestID: String?
    ) async throws -> EnrollmentOutcome {
        let parsed: CertificateSigningRequest
        do { parsed = try CertificateSigningRequest(derEncoded: csr) } catch {
            throw SCEPError(.badRequest, "the pkcsPKIEnvelope does not hold a PKCS#10 request")
        }
        let selfSigned = signer.issuer == signer.subject
        if selfSigned, signer.publicKey != parsed.publicKey {
            throw SCEPError(.badMessageCheck, "the message is signed with a key other than the request's")
        }
        if type == .renewalReq, selfSigned {
            throw SCEPError(.badRequest, "a RenewalReq is signed with the certificate being renewed")
        }
        return try await enroll(
            EnrollmentRequest(
                profile: profile.id,
                protocolName: .scep,
                operation: type == .renewalReq ? .reenroll : .enroll,
                csr: csr,
                credentials: ClientCredentials(
                    username: selfSigned ? "scep" : nil,
                    password: try ChallengePassword.of(parsed),
                    certificateChain: selfSigned ? [] : [signer]
                ),
                transaction: request.transactionID,
                requestID: requestID
            )
        )
    }

    /// The certificate an IssuerAndSerialNumber names, issued by the profile's CA.
    private func certificate(named content: [UInt8], profile: EnrollmentProfile) async throws -> CertificateRecord {
        let name: IssuerAndSerialNumber
        do { name = try IssuerAndSerialNumber(node: try DER.parse(content)) } catch {
            throw SCEPError(.badRequest, "the pkcsPKIEnvelope does not hold an IssuerAndSerialNumber")
        }
        let caSubject = try? await authority.authority(profile.ca).certificate.map { try derBytes($0.subject) }
        guard caSubject == name.issuer,
            let record = try? await authority.certificate(ca: profile.ca, serial: Hex.encode(name.serialNumber))
        else { throw SCEPError(.badCertID, "CA \(profile.ca) has issued no certificate with that issuer and serial") }
        return record
    }

    /// Decrypts the pkcsPKIEnvelope with the RA key (the current one, or the previous one for a request
    /// encrypted to it) inside the HSM.
    private func open(_ envelope: CMSEnvelopedData, ra: RegistrationAuthorityRecord, raName: IssuerAndSerialNumber)
        async throws -> [UInt8]
    {
        let recipient =
            envelope.recipients.first { $0.identifier == .issuerAndSerialNumber(raName) } ?? envelope.recipients[0]
        guard recipient.keyEncryptionAlgorithm.algorithm == CMSObjectIdentifiers.rsaEncryption else {
            throw SCEPError(.badAlg, "key transport \(recipient.keyEncryptionAlgorithm.algorithm) is not rsaEncryption")
        }
        let keyName =
            recipient.identifier == .issuerAndSerialNumber(raName) ? ra.keyName : (ra.previousKeyName ?? ra.keyName)
        do {
            return try await authority.signing.keyStore.openEnvelope(
                recipient: try authority.signing.keys.serviceKey(keyName).reference,
                encryptedKey: recipient.encryptedKey,
                cipher: Self.cipher(envelope.contentEncryption),
                iv: envelope.iv,
                ciphertext: envelope.encryptedContent
            )
        } catch let error where error is PKCS11Error || (error as? HSMError)?.code == .pkcs11 {
            let cause = returnValue(of: error).map { " (\($0))" } ?? ""
            throw SCEPError(.badMessageCheck, "the pkcsPKIEnvelope does not decrypt with the RA key\(cause)")
        } catch {
            throw EnrollmentError(.unavailable, "the HSM could not open the envelope: \(error)")
        }
    }

    /// Encrypts `content` to the requester's RSA key, with the cipher the request itself used.
    private func seal(
        _ content: [UInt8],
        to recipient: (certificate: Certificate, modulus: [UInt8], exponent: [UInt8]),
        like request: CMSEnvelopedData
    )
        async throws -> [UInt8]
    {
        let sealed: (encryptedKey: [UInt8], iv: [UInt8], ciphertext: [UInt8])
        do {
            sealed = try await authority.signing.keyStore.sealEnvelope(
                modulus: recipient.modulus,
                exponent: recipient.exponent,
                cipher: Self.cipher(request.contentEncryption),
                plaintext: content
            )
        } catch {
            throw EnrollmentError(.unavailable, "the HSM could not encrypt the answer: \(error)")
        }
        return try CMSEnvelopedData(
            recipients: [
                .init(
                    identifier: .issuerAndSerialNumber(try IssuerAndSerialNumber(certificate: recipient.certificate)),
                    encryptedKey: sealed.encryptedKey
                )
            ],
            contentEncryption: request.contentEncryption,
            iv: sealed.iv,
            encryptedContent: sealed.ciphertext
        ).der()
    }

    /// The CertRep signed by the RA key (SHA-256 with RSA PKCS#1 v1.5).
    private func sign(_ reply: SCEPReply, ra: RegistrationAuthorityRecord, raName: IssuerAndSerialNumber)
        async throws(EnrollmentError) -> [UInt8]
    {
        do {
            var reply = reply
            reply.senderNonce = try await authority.signing.keyStore.random(16)
            let key = try await authority.signing.keys.serviceKey(ra.keyName)
            let signature = try await authority.signing.keyStore.sign(
                key.reference,
                scheme: .rsaPKCS1v15(.sha256),
                input: .message(try reply.signedAttributes())
            )
            return try reply.der(
                signer: raName,
                certificates: [ra.certificate],
                signature: signature
            )
        } catch {
            throw EnrollmentError(.unavailable, "the RA could not sign the answer: \(error)")
        }
    }

    /// The requester's RSA key, which the answer is encrypted to.
    private static func recipientKey(_ certificate: Certificate) throws -> (
        certificate: Certificate, modulus: [UInt8], exponent: [UInt8]
    ) {
        do {
            let key = try _RSA.Encryption.PublicKey(derRepresentation: try derBytes(certificate.publicKey))
            let primitives = try key.getKeyPrimitives()
            return (certificate, Array(primitives.modulus.drop { $0 == 0 }), Array(primitives.publicExponent))
        } catch {
            throw SCEPError(
                .badAlg,
                "the signer's key is not an RSA key of 2048 bits or more (answers are encrypted to it)"
            )
        }
    }

    private static func cipher(_ algorithm: ContentEncryptionAlgorithm) -> EnvelopeCipher {
        switch algorithm {
        case .aes128CBC, .aes192CBC, .aes256CBC: .aesCBC(keyLength: algorithm.keyLength)
        case .desEDE3CBC: .desEDE3CBC
        }
    }

    /// An audit entry for a SCEP message that did not go through `enroll` (polls, GetCert, GetCRL) or
    /// was refused before it.
    private func auditSCEP(_ request: SCEPRequest, profile: EnrollmentProfile, outcome: String, requestID: String?)
        async
    {
        let client = request.signerCertificate.map { DistinguishedNameText.format($0.subject) } ?? "anonymous"
        let event = AuditEvent(
            actor: "scep/\(profile.id)/certificate/\(client.prefix(200))",
            action: "scep.\(request.messageType?.name ?? "message \(request.messageTypeText.prefix(8))")",
            object: "enrollment-profile/\(profile.id)",
            outcome: "transaction \(request.transactionID.prefix(64)): \(outcome.prefix(512))",
            requestID: requestID
        )
        _ = try? await store.write { txn in try txn.appendAudit(event) }
    }
}

extension EnrollmentService {
    /// GetCACaps: what the server supports (the same for every profile that offers SCEP).
    public func scepCapabilities(profile id: String) async throws(EnrollmentError) -> [String] {
        _ = try await scepProfile(id)
        return SCEPCapabilities.advertised
    }
}
