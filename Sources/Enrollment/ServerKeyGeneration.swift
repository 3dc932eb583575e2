import CA
import Codecs
import Crypto
import CustosX509
import Foundation
import HSM
public import MetadataStore
import PKCS11
import X509
import _CryptoExtras

/// EST server-side key generation (RFC 7030 section 4.4): the key pair is made in the HSM, certified as
/// the request asks under the profile's rules, and handed out only as a CMS EnvelopedData for the RSA
/// key of the client's TLS certificate. Its encrypted content is the PKCS#8 key wrapped inside the
/// token with `CKM_AES_CBC_PAD` under a one-use AES-256 key, which is wrapped to the client with RSA
/// PKCS#1 v1.5 (CMS key transport); the plaintext key never leaves the token. A token without that wrap
/// (SoftHSM 2.6) refuses with `notImplemented` before anything is issued.
extension EnrollmentService {
    /// A key made for a client: its certificate, the chain above it, and the key as an EnvelopedData (DER).
    public struct ServerGeneratedKey: Sendable {
        public let record: CertificateRecord
        public let chain: [[UInt8]]
        public let envelope: [UInt8]
    }

    /// Authenticates the client as `enroll` does and makes its key. The request's CSR names the subject,
    /// alternative names and key type (P-256, P-384, P-521 or RSA; its key and signature are ignored,
    /// RFC 7030 section 4.4.1). Refused for profiles that hold requests for approval (the key would have
    /// to be kept until then) and for clients without an RSA TLS certificate to encrypt it to.
    public func generateKey(for request: EnrollmentRequest) async throws(EnrollmentError) -> ServerGeneratedKey {
        try await authenticated(request) { profile, identity throws(EnrollmentError) in
            try await generateKey(request, profile: profile, identity: identity)
        }
    }

    private func generateKey(_ request: EnrollmentRequest, profile: EnrollmentProfile, identity: ClientIdentity)
        async throws(EnrollmentError) -> ServerGeneratedKey
    {
        guard profile.approval == .automatic else {
            throw EnrollmentError(
                .forbidden,
                "profile \(profile.id) holds requests for approval; keys are generated only for requests issued at once"
            )
        }
        if case .oneTimePassword(let secret) = identity, secret.used != nil {
            throw EnrollmentError(.forbidden, "the one-time password \(secret.id) has been used")
        }
        guard let recipient = request.credentials.certificateChain.first,
            let rsa = try? _RSA.Encryption.PublicKey(derRepresentation: try derBytes(recipient.publicKey)),
            let primitives = try? rsa.getKeyPrimitives()
        else {
            throw EnrollmentError(
                .invalidInput,
                "serverkeygen encrypts the key to the RSA key (2048 bits or more) of the TLS client certificate, "
                    + "and the client presented none"
            )
        }
        let csr: CertificateSigningRequest
        let names: [SubjectAlternativeName]
        do {
            csr = try CertificateSigningRequest(derEncoded: request.csr)
            names = try CertificateAuthority.requestedAlternativeNames(csr).map { name throws(CAError) in
                try SubjectAlternativeName(name)
            }
        } catch let error as CAError {
            throw EnrollmentError.from(error)
        } catch {
            throw EnrollmentError(.invalidCSR, "the request is not a PKCS#10 CSR: \(error)")
        }
        var clientSubject: DistinguishedName?
        switch identity {
        case .anchoredCertificate(let certificate): clientSubject = certificate.subject
        case .issuedCertificate(let record):
            let own: Certificate
            do { own = try Certificate(derEncoded: record.der) } catch { throw EnrollmentError.from(error) }
            clientSubject = own.subject
            let certified = try profile.subjectTemplate.map { text throws(EnrollmentError) in
                try SubjectTemplate(text).subject(for: csr.subject, client: own.subject)
            }
            try checkSameNames(
                as: own,
                record: record,
                subject: csr.subject,
                names: (try? CertificateAuthority.requestedAlternativeNames(csr)) ?? [],
                certified: certified ?? csr.subject
            )
        case .sharedPassword, .oneTimePassword, .officer: break
        }
        let subject = try profile.subjectTemplate.map { text throws(EnrollmentError) in
            try SubjectTemplate(text).subject(for: csr.subject, client: clientSubject)
        }
        let algorithm =
            (try? SubjectKeyAlgorithm(csr.publicKey)).flatMap { KeyAlgorithm(rawValue: $0.name) }
            .flatMap { Self.deviceKeyAlgorithms.contains($0) ? $0 : nil } ?? .ecP256
        let modulus = Array(primitives.modulus.drop { $0 == 0 })
        let iv = Self.randomBytes(16)
        let generated: (publicKey: PKCS11.PublicKey, wrappedPrivateKey: [UInt8])
        do {
            generated = try await authority.signing.keyStore.generateWrappedKeyPair(
                algorithm,
                delivery: .cmsEnvelope(
                    iv: iv,
                    keyLength: 32,
                    modulus: modulus,
                    exponent: Array(primitives.publicExponent)
                )
            )
        } catch let error as HSMError where error.code == .unsupported {
            throw EnrollmentError(
                .notImplemented,
                error.reason + "; make the key with POST /v1/cas/{ca}/device-keys and an RSA key instead"
            )
        } catch {
            throw EnrollmentError.from(error)
        }
        guard generated.wrappedPrivateKey.count > modulus.count else {
            throw EnrollmentError(.internalError, "the token's wrapped key is shorter than the recipient's modulus")
        }
        let publicKey: Certificate.PublicKey
        do { publicKey = try Certificate.PublicKey(derEncoded: generated.publicKey.derRepresentation) } catch {
            throw EnrollmentError(.internalError, "the generated public key does not read back: \(error)")
        }
        let actor = "\(request.protocolName.rawValue)/\(profile.id)/\(identity.name)"
        let oneTimeSecret: EnrollmentSecretRecord? =
            if case .oneTimePassword(let secret) = identity { secret } else { nil }
        let fingerprint = Hex.encode(Array(SHA256.hash(data: rsa.derRepresentation)).prefix(8))
        let requester = Requester(actor: actor, requestID: request.requestID)
        let issued: CertificateAuthority.IssuedCertificate
        do {
            issued = try await authority.issue(
                ca: profile.ca,
                generatedKey: publicKey,
                subject: subject ?? csr.subject,
                alternativeNames: names,
                category: profile.category,
                validityDays: profile.validityDays,
                metadata: [
                    Self.profileMetadataKey: profile.id, Self.protocolMetadataKey: request.protocolName.rawValue,
                ],
                requester: requester,
                alsoWrite: { txn, certificate in
                    if let oneTimeSecret { try Self.consume(oneTimeSecret, in: txn) }
                    try txn.appendAudit(
                        AuditEvent(
                            actor: actor,
                            action: "enrollment.key.deliver",
                            object: "certificate/\(certificate.issuer)/\(Hex.encode(certificate.serial))",
                            outcome: "success: \(algorithm.rawValue) key generated in the HSM, delivered as CMS "
                                + "EnvelopedData (AES-256-CBC, RSA key transport to \(fingerprint)); no copy kept",
                            requestID: request.requestID
                        )
                    )
                }
            )
        } catch {
            throw EnrollmentError.from(error)
        }
        do {
            let envelope = try CMSEnvelopedData(
                recipients: [
                    .init(
                        identifier: .issuerAndSerialNumber(try IssuerAndSerialNumber(certificate: recipient)),
                        encryptedKey: Array(generated.wrappedPrivateKey.prefix(modulus.count))
                    )
                ],
                contentEncryption: .aes256CBC,
                iv: iv,
                encryptedContent: Array(generated.wrappedPrivateKey.dropFirst(modulus.count))
            ).der()
            return ServerGeneratedKey(record: issued.record, chain: issued.chain, envelope: envelope)
        } catch {
            throw EnrollmentError(.internalError, "the envelope cannot be encoded: \(error)")
        }
    }
}
