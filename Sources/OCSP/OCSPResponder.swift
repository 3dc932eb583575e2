public import CA
import Crypto
import CustosX509
import Foundation
import HSM
import MetadataStore
import Signing
import Synchronization
public import WorkerThreads
import X509

/// Answers OCSP requests (RFC 6960, in the RFC 5019 profile) for every CA whose key Custos holds,
/// signing in the HSM with the key that signed the certificates asked about, or, with
/// `delegatedSigners`, with that CA's delegated OCSP signer (see `rotateOCSPSigner`) whose
/// certificate then travels in the answer.
///
/// A CertID is matched by SHA-1 or SHA-256 hashes of a CA key's certificate subject and public key;
/// the status comes from the store: revoked (time and reason) when revoked, good when Custos issued
/// the serial, and unknown otherwise, so a serial Custos never issued is never good. CertIDs of
/// another issuer than the first one matched in the same request are answered unknown (one
/// signature covers one issuer). Requests for issuers Custos does not serve get `unauthorized`,
/// undecodable ones or nonces outside 1 to 32 octets (RFC 8954) `malformedRequest`, an HSM that
/// does not answer or too many live signatures at once `tryLater`.
///
/// Requests with one CertID and no nonce are answered from responses signed ahead and kept in the
/// store (`OCSPResponseRecord`): `refreshDue` signs them for every unexpired certificate and again
/// after half their validity; a revocation deletes them in its own transaction, and the next
/// request signs live and keeps the new answer. An expired response is never served.
public final class OCSPResponder: Sendable {
    /// Where an answer came from.
    public enum Source: String, Sendable {
        case presigned
        case live
        case error
    }

    /// An encoded `OCSPResponse` and what HTTP caching needs to know of it.
    public struct Answer: Sendable {
        public let der: [UInt8]
        public let status: OCSPResponseStatus
        public let source: Source
        /// Seconds since 1970 (successful answers).
        public let thisUpdate: Int64?
        public let nextUpdate: Int64?
        /// Whether a cache may keep it: successful and without a nonce.
        public let cacheable: Bool

        public static func error(_ status: OCSPResponseStatus) -> Answer {
            Answer(
                der: status.unsuccessfulResponse,
                status: status,
                source: .error,
                thisUpdate: nil,
                nextUpdate: nil,
                cacheable: false
            )
        }
    }

    /// A CA key Custos signs OCSP answers with, and its newest certificate.
    struct Issuer: Sendable {
        let ca: String
        let key: SigningKey
        let certificate: Certificate
        /// The certificate's subject as encoded (for CertIDs made here).
        let subject: [UInt8]
        /// The certificate's public key (the BIT STRING's contents), and its SHA-1 (ResponderID byKey);
        /// kept because reading an EC key's bytes costs a field inversion each time.
        let publicKey: ArraySlice<UInt8>
        let keyHash: [UInt8]
    }

    struct Index: Sendable {
        /// (hash algorithm tag, name hash, key hash) → issuer.
        var issuers: [[UInt8]: Issuer] = [:]
        /// CA id → its keys' issuers.
        var byCA: [String: [Issuer]] = [:]
        /// The CA table's change stamp when it was built (nil: not built yet).
        var stamp: UInt64?
        /// When it was built, if a CA's current key could not be found then (tried again a second later).
        var incompleteSince: ContinuousClock.Instant?
    }

    /// A CA's delegated signer as the responder uses it (from its `OCSPSignerRecord`).
    struct Delegate: Sendable {
        let generation: Int64
        let caKeyName: String
        let key: SigningKey
        let certificate: [UInt8]
        /// SHA-1 of the signer's public key (ResponderID byKey).
        let keyHash: [UInt8]
        let notBefore: Int64
        let notAfter: Int64
    }

    /// The CA whose certificates it answers for.
    public let authority: CertificateAuthority
    /// How long an answer is valid (nextUpdate − thisUpdate); answers signed ahead are refreshed after
    /// half of it.
    public let validitySeconds: Int64
    /// Live signatures allowed at once; more get `tryLater` rather than a queue without bound.
    public let maxLiveSignatures: Int
    /// Whether answers are signed by each CA's delegated OCSP signer (when it has a valid one) rather
    /// than by the CA key.
    public let delegatedSigners: Bool
    /// The live work on the HSM that signing ahead for new certificates steps aside for.
    public let liveWork: LiveWorkProbe
    let index = Mutex(Index())
    /// CA id → its delegated signer, as last read from the store.
    let delegates = Mutex<[String: Delegate]>([:])
    let liveSignatures = Mutex(0)
    /// Where the next pre-signing pass continues in the certificate table.
    let presignCursor = Mutex<Key?>(nil)
    /// Why no answer is made now (a replica too far behind its primary), or nil.
    let refusal = Mutex<String?>(nil)

    /// Answers `tryLater` to every request while `reason` is set (nil answers again): a responder on a
    /// replica that is behind must not sign answers from what it has.
    public func refuseAnswers(_ reason: String?) { refusal.withLock { $0 = reason } }

    /// Why answers are refused now, if they are.
    public var refusedBecause: String? { refusal.withLock { $0 } }

    public init(
        authority: CertificateAuthority,
        validitySeconds: Int64 = 4 * 86_400,
        maxLiveSignatures: Int = 64,
        delegatedSigners: Bool = false,
        liveWork: LiveWorkProbe? = nil
    ) {
        self.authority = authority
        self.liveWork = liveWork ?? authority.signing.keyStore.pool.liveWork
        self.validitySeconds = validitySeconds
        self.maxLiveSignatures = maxLiveSignatures
        self.delegatedSigners = delegatedSigners
    }

    /// Whether `der` decodes as an OCSP request (to repair mangled GET paths).
    public static func isRequest(_ der: [UInt8]) -> Bool { (try? OCSPRequest(derEncoded: der)) != nil }

    /// Where the pre-signed answer to a request is kept: the CA, the certificate's serial and the
    /// CertID's hash algorithm.
    public struct PresignedKey: Hashable, Sendable {
        public let ca: String
        public let serial: [UInt8]
        public let tag: UInt8
    }

    /// The stored, pre-signed answer to `der` if there is one that is still valid: for a request with
    /// one CertID of a known issuer and no nonce; nil means `respond(to:)` must answer.
    public func presignedAnswer(to der: [UInt8]) async -> Answer? {
        guard let key = presignedKey(for: der) else { return nil }
        return await presignedAnswer(at: key)
    }

    /// Where the pre-signed answer to `der` would be kept: for a request with one CertID of a known
    /// issuer and no nonce (parses the request; reads nothing).
    public func presignedKey(for der: [UInt8]) -> PresignedKey? {
        guard let request = try? OCSPRequest(derEncoded: der), request.nonceExtensionValue == nil,
            request.certIDs.count == 1, let tag = Self.algorithmTag(request.certIDs[0])
        else { return nil }
        let certID = request.certIDs[0]
        guard let issuer = index.withLock({ $0.issuers[[tag] + certID.issuerNameHash + certID.issuerKeyHash] }) else {
            return nil
        }
        return PresignedKey(ca: issuer.ca, serial: certID.serial, tag: tag)
    }

    /// The pre-signed answer kept at `key`, if it is still valid (one store read): nil once a
    /// revocation deleted it or it has less than a minute to live.
    public func presignedAnswer(at key: PresignedKey) async -> Answer? {
        // While answers are refused, stored ones too: the store may lack a revocation that deleted them.
        guard refusedBecause == nil else { return nil }
        return await stored(ca: key.ca, serial: key.serial, tag: key.tag, now: Int64(Date().timeIntervalSince1970))
    }

    /// `presignedAnswer(at:)` without suspending, for an event loop's fast path: nil also when the store's
    /// reads wait on the network (PostgreSQL), and the request then takes the async route.
    public func presignedAnswerWithoutWaiting(at key: PresignedKey) -> Answer? {
        guard refusedBecause == nil else { return nil }
        let record = try? authority.store.readWithoutWaiting {
            try $0.ocspResponse(issuer: key.ca, serial: key.serial, hashAlgorithm: key.tag)
        }
        return Self.answer(record ?? nil, now: Int64(Date().timeIntervalSince1970))
    }

    /// The stored answer for one certificate and CertID hash, if it has more than a minute to live.
    func stored(ca: String, serial: [UInt8], tag: UInt8, now: Int64) async -> Answer? {
        Self.answer(
            try? await authority.store.read { try $0.ocspResponse(issuer: ca, serial: serial, hashAlgorithm: tag) },
            now: now
        )
    }

    private static func answer(_ stored: OCSPResponseRecord?, now: Int64) -> Answer? {
        guard let stored, stored.nextUpdate > now + 60, stored.der.count > 5 else { return nil }
        return Answer(
            der: stored.der,
            status: .successful,
            source: .presigned,
            thisUpdate: stored.thisUpdate,
            nextUpdate: stored.nextUpdate,
            cacheable: true
        )
    }

    /// The DER `OCSPResponse` for the DER `OCSPRequest` `der`; never throws: failures are OCSP statuses.
    public func respond(to der: [UInt8]) async -> Answer {
        let request: OCSPRequest
        do { request = try OCSPRequest(derEncoded: der) } catch { return .error(.malformedRequest) }
        if let nonce = request.nonce, !(1...32).contains(nonce.count) { return .error(.malformedRequest) }
        guard refusedBecause == nil else { return .error(.tryLater) }
        let issuers: [Issuer?]
        do {
            var found: [Issuer?] = []
            for certID in request.certIDs { found.append(try await issuer(for: certID)) }
            issuers = found
        } catch {
            // A store that cannot answer now (PostgreSQL restarting) is a reason to ask again, not a fault.
            return .error(CAError.from(error).code == .storeUnavailable ? .tryLater : .internalError)
        }
        guard let signer = issuers.compactMap({ $0 }).first else { return .error(.unauthorized) }
        let now = Int64(Date().timeIntervalSince1970)
        let single = request.nonceExtensionValue == nil && request.certIDs.count == 1
        let tag = Self.algorithmTag(request.certIDs[0])
        if single, let tag,
            let stored = await stored(ca: signer.ca, serial: request.certIDs[0].serial, tag: tag, now: now)
        {
            return stored
        }
        let admitted = liveSignatures.withLock { count in
            guard count < maxLiveSignatures else { return false }
            count += 1
            return true
        }
        guard admitted else { return .error(.tryLater) }
        defer { liveSignatures.withLock { $0 -= 1 } }
        var responses: [BasicOCSPResponse.Single] = []
        do {
            for (certID, issuer) in zip(request.certIDs, issuers) {
                let status: CertificateStatus =
                    await issuer?.ca == signer.ca && issuer?.key.name == signer.key.name
                    ? try status(ca: signer.ca, serial: certID.serial) : .unknown
                responses.append(.init(certID: certID.der, status: status))
            }
            let der = try await sign(responses, by: signer, at: now, nonce: request.nonceExtensionValue)
            // Keep the answer for the next such request, unless the certificate is unknown (a
            // requester could otherwise fill the store with serials never issued).
            if single, let tag, responses[0].status != .unknown {
                keep(
                    der,
                    status: responses[0].status,
                    ca: signer.ca,
                    serial: request.certIDs[0].serial,
                    tag: tag,
                    at: now
                )
            }
            return Answer(
                der: der,
                status: .successful,
                source: .live,
                thisUpdate: now,
                nextUpdate: now + validitySeconds,
                cacheable: request.nonceExtensionValue == nil
            )
        } catch {
            switch CAError.from(error).code {
            case .hsmUnavailable, .storeUnavailable: return .error(.tryLater)
            default: return .error(.internalError)
            }
        }
    }

    func sign(_ responses: [BasicOCSPResponse.Single], by signer: Issuer, at now: Int64, nonce: [UInt8]?)
        async throws -> [UInt8]
    {
        var response = BasicOCSPResponse(
            responderKeyHash: signer.keyHash,
            producedAt: now,
            thisUpdate: now,
            nextUpdate: now + validitySeconds,
            responses: responses,
            nonceExtensionValue: nonce
        )
        var signingKey = signer.key
        if let delegate = await delegate(of: signer, at: now) {
            signingKey = delegate.key
            response.responderKeyHash = delegate.keyHash
            response.certificates = [delegate.certificate]
        }
        let key = try authority.privateKey(signingKey)
        let algorithm = key.defaultSignatureAlgorithm
        let tbs = try response.tbsBytes()
        let signature = try await key.signatureValue(tbs, signatureAlgorithm: algorithm)
        return try response.assemble(tbs: tbs, algorithm: algorithm, signature: signature)
    }

    /// The delegated signer to sign for `issuer` with at `now`: the CA's current one, if delegation is
    /// on, it was issued by the issuer's key, and its certificate covers the whole answer (thisUpdate
    /// to nextUpdate). Otherwise the CA key signs. Read from the store on each live signature, so a
    /// rotation by another process is seen at once; parsed only when it changed.
    func delegate(of issuer: Issuer, at now: Int64) async -> Delegate? {
        guard delegatedSigners,
            let record = try? await authority.store.read({
                try $0.ocspSigner(ca: issuer.ca)
            }),
            record.caKeyName == issuer.key.name, record.notBefore <= now, record.notAfter >= now + validitySeconds
        else { return nil }
        if let cached = delegates.withLock({ $0[issuer.ca] }), cached.generation == record.generation,
            cached.caKeyName == record.caKeyName
        {
            return cached
        }
        guard let key = try? await authority.signing.keys.serviceKey(record.keyName),
            let certificate = try? ParsedCertificates.certificate(record.certificate)
        else { return nil }
        let delegate = Delegate(
            generation: record.generation,
            caKeyName: record.caKeyName,
            key: key,
            certificate: record.certificate,
            keyHash: Array(Insecure.SHA1.hash(data: certificate.publicKey.subjectPublicKeyInfoBytes)),
            notBefore: record.notBefore,
            notAfter: record.notAfter
        )
        delegates.withLock { $0[issuer.ca] = delegate }
        return delegate
    }

    /// Stores a response in the background (the answer does not wait for the disk).
    func keep(_ der: [UInt8], status: CertificateStatus, ca: String, serial: [UInt8], tag: UInt8, at now: Int64) {
        // A replica cannot keep it; the primary's responders sign ahead for it.
        guard !authority.store.isReadOnly else { return }
        Task { try? await store(der, status: status, ca: ca, serial: serial, tag: tag, at: now) }
    }

    /// Stores a response unless the certificate's status changed since it was signed (a revocation
    /// committed in between must not be overwritten by a "good" signed before it).
    func store(
        _ der: [UInt8],
        status: CertificateStatus,
        ca: String,
        serial: [UInt8],
        tag: UInt8,
        at now: Int64
    )
        async throws
    {
        let record = OCSPResponseRecord(
            issuer: ca,
            serial: serial,
            hashAlgorithm: tag,
            der: der,
            thisUpdate: now,
            nextUpdate: now + validitySeconds
        )
        let wasRevoked = if case .revoked = status { true } else { false }
        try await authority.store.write { txn in
            guard let certificate = try txn.certificate(issuer: ca, serial: serial),
                (certificate.status == .revoked) == wasRevoked
            else { return }
            try txn.save(record)
        }
    }

    /// A certificate's status from the store (reads only; safe on any thread).
    func status(ca: String, serial: [UInt8]) async throws -> CertificateStatus {
        try await authority.store.read { reader in
            guard let record = try reader.certificate(issuer: ca, serial: serial) else { return .unknown }
            guard record.status == .revoked, let revocation = try reader.revocation(issuer: ca, serial: serial) else {
                return .good
            }
            return .revoked(
                time: revocation.revokedAt / 1_000_000_000,
                reason: CRLReason(rawValue: revocation.reason) ?? .unspecified
            )
        }
    }

}
