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
    private struct Issuer: Sendable {
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

    private struct Index: Sendable {
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
    private struct Delegate: Sendable {
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
    private let index = Mutex(Index())
    /// CA id → its delegated signer, as last read from the store.
    private let delegates = Mutex<[String: Delegate]>([:])
    private let liveSignatures = Mutex(0)
    /// Where the next pre-signing pass continues in the certificate table.
    private let presignCursor = Mutex<Key?>(nil)

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
    /// one CertID of a known issuer and no nonce. Reads the store only (no HSM, no waiting), so an
    /// event loop may call it; nil means `respond(to:)` must answer.
    public func presignedAnswer(to der: [UInt8]) -> Answer? {
        presignedKey(for: der).flatMap { presignedAnswer(at: $0) }
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
    public func presignedAnswer(at key: PresignedKey) -> Answer? {
        stored(ca: key.ca, serial: key.serial, tag: key.tag, now: Int64(Date().timeIntervalSince1970))
    }

    /// The stored answer for one certificate and CertID hash, if it has more than a minute to live.
    private func stored(ca: String, serial: [UInt8], tag: UInt8, now: Int64) -> Answer? {
        guard
            let stored = try? authority.store.read({
                try $0.ocspResponse(issuer: ca, serial: serial, hashAlgorithm: tag)
            }),
            stored.nextUpdate > now + 60, stored.der.count > 5
        else { return nil }
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
        let issuers: [Issuer?]
        do { issuers = try request.certIDs.map { try issuer(for: $0) } } catch { return .error(.internalError) }
        guard let signer = issuers.compactMap({ $0 }).first else { return .error(.unauthorized) }
        let now = Int64(Date().timeIntervalSince1970)
        let single = request.nonceExtensionValue == nil && request.certIDs.count == 1
        let tag = Self.algorithmTag(request.certIDs[0])
        if single, let tag, let stored = stored(ca: signer.ca, serial: request.certIDs[0].serial, tag: tag, now: now) {
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
                    issuer?.ca == signer.ca && issuer?.key.name == signer.key.name
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
            case .hsmUnavailable: return .error(.tryLater)
            default: return .error(.internalError)
            }
        }
    }

    /// Signs the responses that are due: stored ones past half their validity, and (continuing
    /// through the certificate table, at most `limit` signatures and 20,000 certificates looked at a
    /// pass) missing ones for unexpired certificates of CAs Custos signs for. Returns how many it
    /// signed.
    @discardableResult
    public func refreshDue(limit: Int = 1_000) async -> Int { await refresh(limit: limit).signed }

    /// What one refresh pass did.
    public struct RefreshPass: Sendable, Equatable {
        /// Responses signed.
        public var signed = 0
        /// Whether responses for new certificates were left for later because live work used the HSM.
        public var deferred = false
        /// Why the pass stopped early, when the store could not be read (the next pass tries again).
        public var failure: String?

        public init(signed: Int = 0, deferred: Bool = false, failure: String? = nil) {
            self.signed = signed
            self.deferred = deferred
            self.failure = failure
        }
    }

    /// `refreshDue`, and with `deferringNew`, responses for certificates that have none yet are only
    /// signed while the HSM pool has had no live job for that long: a burst of issuance or signing
    /// keeps the HSM (and, with SoftHSM, the CPU) to itself, and the new certificates are signed for
    /// once it is over (or live, if somebody asks first). Due refreshes never wait. The pass's own
    /// signatures are background work and do not count as live.
    public func refresh(limit: Int = 1_000, scanLimit: Int = 20_000, deferringNew window: Duration? = nil) async
        -> RefreshPass
    {
        await LiveWorkProbe.inBackground {
            await refreshPass(limit: limit, scanLimit: scanLimit, deferringNew: window)
        }
    }

    private func refreshPass(limit: Int, scanLimit: Int, deferringNew window: Duration?) async -> RefreshPass {
        let now = Int64(Date().timeIntervalSince1970)
        var failure: String?
        // CAs created since the index was built: their certificates are signed for in this pass.
        do { _ = try rebuiltIndexIfChanged() } catch { failure = "reading the CAs: \(error)" }
        var signed = 0
        var deferred = false
        // 1. Stored responses past half their validity.
        let due: [OCSPResponseRecord]
        do {
            due = try authority.store.read { reader in
                try reader.ocspResponses(thisUpdateBefore: now - validitySeconds / 2, limit: limit)
            }
        } catch {
            failure = "reading the responses due: \(error)"
            due = []
        }
        for start in stride(from: 0, to: min(due.count, limit), by: Self.presignWidth) {
            let chunk = due[start..<min(start + Self.presignWidth, due.count, limit)]
            signed += await presign(chunk.map { ($0.issuer, $0.serial, $0.hashAlgorithm) }, at: now)
        }
        // 2. Certificates without a stored response, read 500 at a time from where the last pass
        // stopped, until the table ends (the next pass starts again at the front) or the pass is cut
        // short by its limit, live work or `scanLimit` certificates looked at; a pass cut short
        // resumes after the last certificate it handled.
        var cursor = presignCursor.withLock { $0 }
        var scanned = 0
        var cutShort = false
        var pending: [(ca: String, serial: [UInt8], tag: UInt8)] = []
        scan: while true {
            let after = cursor
            // The batch and, for each unexpired certificate in it, the CertIDs without a stored response,
            // from one snapshot.
            let batch: [CertificateRecord]
            let missing: [[UInt8]]
            do {
                (batch, missing) = try authority.store.read { reader in
                    let batch = try reader.records(CertificateRecord.self, after: after, limit: 500)
                    let missing = try batch.map { certificate -> [UInt8] in
                        guard certificate.notAfter / 1_000_000_000 > now else { return [] }
                        return try [UInt8(1), 2].filter { tag in
                            try reader.ocspResponse(
                                issuer: certificate.issuer,
                                serial: certificate.serial,
                                hashAlgorithm: tag
                            )
                                == nil
                        }
                    }
                    return (batch, missing)
                }
            } catch {
                failure = "reading the certificates: \(error)"
                cutShort = true
                break scan
            }
            for (certificate, tags) in zip(batch, missing) {
                if pending.count >= Self.presignWidth {
                    signed += await presign(pending, at: now)
                    pending = []
                }
                if signed + pending.count >= limit || scanned >= scanLimit {
                    cutShort = true
                    break scan
                }
                if let window, !liveWork.hasBeenIdle(for: window) {
                    cutShort = true
                    deferred = true
                    break scan
                }
                scanned += 1
                pending += tags.map { (certificate.issuer, certificate.serial, $0) }
                cursor = certificate.primaryKey
            }
            if batch.count < 500 { break }
        }
        signed += await presign(pending, at: now)
        presignCursor.withLock { $0 = cutShort ? cursor : nil }
        return RefreshPass(signed: signed, deferred: deferred, failure: failure)
    }

    /// Responses a refresh pass signs at once: each waits for the HSM and then for its durable write, so
    /// one at a time would leave both idle most of the time.
    static let presignWidth = 16

    /// Signs and keeps the responses for `items` concurrently; returns how many were signed.
    private func presign(_ items: [(ca: String, serial: [UInt8], tag: UInt8)], at now: Int64) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            for item in items {
                group.addTask { await self.presign(ca: item.ca, serial: item.serial, tag: item.tag, at: now) }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    /// Signs and keeps the response for one certificate, if Custos signs for its issuer.
    private func presign(ca: String, serial: [UInt8], tag: UInt8, at now: Int64) async -> Bool {
        do {
            guard let signer = try issuer(ofCertificate: serial, ca: ca) else { return false }
            let status = try status(ca: ca, serial: serial)
            guard status != .unknown else { return false }
            let certID = try CertID.der(
                issuerName: signer.subject,
                issuerKey: signer.publicKey,
                serial: serial,
                algorithm: tag
            )
            let der = try await sign([.init(certID: certID, status: status)], by: signer, at: now, nonce: nil)
            try await store(der, status: status, ca: ca, serial: serial, tag: tag, at: now)
            return true
        } catch {
            return false
        }
    }

    private func sign(_ responses: [BasicOCSPResponse.Single], by signer: Issuer, at now: Int64, nonce: [UInt8]?)
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
        if let delegate = delegate(of: signer, at: now) {
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
    private func delegate(of issuer: Issuer, at now: Int64) -> Delegate? {
        guard delegatedSigners,
            let record = try? authority.store.read({
                try $0.ocspSigner(ca: issuer.ca)
            }),
            record.caKeyName == issuer.key.name, record.notBefore <= now, record.notAfter >= now + validitySeconds
        else { return nil }
        if let cached = delegates.withLock({ $0[issuer.ca] }), cached.generation == record.generation,
            cached.caKeyName == record.caKeyName
        {
            return cached
        }
        guard let key = try? authority.signing.keys.serviceKey(record.keyName),
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
    private func keep(_ der: [UInt8], status: CertificateStatus, ca: String, serial: [UInt8], tag: UInt8, at now: Int64)
    {
        Task { try? await store(der, status: status, ca: ca, serial: serial, tag: tag, at: now) }
    }

    /// Stores a response unless the certificate's status changed since it was signed (a revocation
    /// committed in between must not be overwritten by a "good" signed before it).
    private func store(
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
    private func status(ca: String, serial: [UInt8]) throws -> CertificateStatus {
        try authority.store.read { reader in
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

    /// The issuer a CertID names, rebuilding the index when it names none and the CA table changed
    /// since it was built, so that CAs created or re-keyed since (by any process) are found.
    private func issuer(for certID: CertID) throws -> Issuer? {
        guard let tag = Self.algorithmTag(certID) else { return nil }
        let lookup = [tag] + certID.issuerNameHash + certID.issuerKeyHash
        if let found = index.withLock({ $0.issuers[lookup] }) { return found }
        return try rebuiltIndexIfChanged()?.issuers[lookup]
    }

    /// The key of `ca` that signed the certificate `serial`: the CA's only key, or the one whose
    /// certificate verifies the certificate's signature.
    private func issuer(ofCertificate serial: [UInt8], ca: String) throws -> Issuer? {
        var candidates = index.withLock { $0.byCA[ca] } ?? []
        if candidates.isEmpty { candidates = try rebuiltIndexIfChanged()?.byCA[ca] ?? [] }
        guard candidates.count > 1 else { return candidates.first }
        guard let record = try authority.store.read({ try $0.certificate(issuer: ca, serial: serial) }) else {
            return nil
        }
        let certificate = try ParsedCertificates.certificate(record.der)
        return candidates.first { $0.certificate.publicKey.isValidSignature(certificate.signature, for: certificate) }
    }

    /// The index rebuilt, if the CA table's change stamp moved since it was built (or a CA's key was
    /// missing then and a second has passed); nil if it is current. Reading the stamp costs one lookup,
    /// so a request naming an issuer Custos does not serve does not rebuild anything.
    private func rebuiltIndexIfChanged() throws -> Index? {
        let stamp = try authority.store.read { try $0.changeStamp(CARecord.self) }
        let due = index.withLock { index in
            index.stamp != stamp || index.incompleteSince.map { ContinuousClock.now - $0 > .seconds(1) } ?? false
        }
        guard due else { return nil }
        let rebuilt = try buildIndex()
        index.withLock { index in
            // Two rebuilds at once: the one from the newer snapshot stays.
            if rebuilt.stamp ?? 0 >= index.stamp ?? 0 { index = rebuilt }
        }
        return rebuilt
    }

    /// The index tag of a CertID's hash algorithm: 1 SHA-1, 2 SHA-256, nil for others.
    private static func algorithmTag(_ certID: CertID) -> UInt8? {
        switch certID.hashAlgorithm {
        case CertID.sha1: 1
        case CertID.sha256: 2
        default: nil
        }
    }

    private func buildIndex() throws -> Index {
        let (records, stamp) = try authority.store.read { reader in
            (
                try reader.records(CARecord.self, after: nil, limit: .max).filter {
                    $0.keyName != nil && $0.certificate != nil
                },
                try reader.changeStamp(CARecord.self)
            )
        }
        var index = Index(stamp: stamp)
        for record in records {
            for name in CertificateAuthority.keyNames(of: record) {
                guard let key = try? authority.signing.keys.serviceKey(name),
                    let certificate = try? CertificateAuthority.newestCertificate(of: key, in: record)
                else {
                    // Earlier keys may be gone (retired, or never made: a renewal can keep its key); the
                    // current one should be there, and if not yet, the next lookup a second later tries again.
                    if name == record.keyName { index.incompleteSince = .now }
                    continue
                }
                let subject = try CRLPublisher.subjectBytes(certificate)
                let publicKey = certificate.publicKey.subjectPublicKeyInfoBytes
                let issuer = Issuer(
                    ca: record.id,
                    key: key,
                    certificate: certificate,
                    subject: subject,
                    publicKey: publicKey,
                    keyHash: Array(Insecure.SHA1.hash(data: publicKey))
                )
                index.issuers[[1] + Insecure.SHA1.hash(data: subject) + Insecure.SHA1.hash(data: publicKey)] = issuer
                index.issuers[[2] + SHA256.hash(data: subject) + SHA256.hash(data: publicKey)] = issuer
                index.byCA[record.id, default: []].append(issuer)
            }
        }
        return index
    }
}
