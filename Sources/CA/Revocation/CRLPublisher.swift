import CustosX509
import Foundation
import MetadataStore
import Signing
import SwiftASN1
import WorkerThreads
public import X509

/// Issues each CA's CRLs and keeps the current ones in memory for serving.
///
/// Every issue writes the CA's next CRL numbers to the store before signing, so a number is never
/// reused, also across restarts (RFC 5280 section 5.2.3: monotonically increasing). A full CRL and a
/// delta CRL are issued together and share the numbering (section 5.2.4): the full CRL gets N, the
/// delta N + 1 with base N. Both are reissued when half their validity has passed and
/// `revocationDelay` after revocations; a fetch of a CA with unpublished revocations reissues at once,
/// so a CRL served after a revocation always lists it. Reading the revocations and encoding the CRL
/// run on a dedicated thread (a CA can have millions of entries), signing goes through the pool.
public actor CRLPublisher {
    /// A signed CRL and when it was made.
    public struct Published: Sendable {
        public let der: [UInt8]
        public let number: UInt64
        /// Seconds since 1970.
        public let thisUpdate: Int64
        public let nextUpdate: Int64
        public let entries: Int
        /// Revocations at or before this instant (ns since 1970) are in it (full CRLs).
        let snapshot: Int64
    }

    private struct State {
        var full: Published?
        var delta: Published?
        /// Revocations noted / published, to know whether the CRLs are behind.
        var revision = 0
        var publishedRevision = 0
        var dirtySince: ContinuousClock.Instant?
        var inflight: Task<(Published, Published), any Error>?
    }

    private let store: any MetadataBackend
    private let signing: SigningService
    private let configuration: CAConfiguration
    private var states: [String: State] = [:]
    /// A delta CRL repeats revocations made this long before its base's snapshot: one committed just
    /// after the base was read can then not fall between the two.
    static let deltaOverlapNanoseconds: Int64 = 300 * 1_000_000_000

    init(store: any MetadataBackend, signing: SigningService, configuration: CAConfiguration) {
        self.store = store
        self.signing = signing
        self.configuration = configuration
    }

    /// Marks `ca`'s CRLs as behind: the next fetch, or the schedule after `revocationDelay`, reissues.
    func noteRevocation(ca: String) {
        // Every key's CRLs list every revocation of the CA, so all of its scopes are behind.
        let scopes = Set(states.keys.filter { $0.hasPrefix(ca + ".") } + [ca])
        for scope in scopes {
            states[scope, default: State()].revision += 1
            if states[scope]?.dirtySince == nil { states[scope]?.dirtySince = .now }
        }
    }

    /// The current full (or delta) CRL of `ca`, issued first if there is none yet, it is due, or
    /// revocations are not in it yet.
    public func current(_ ca: String, delta: Bool = false) async throws(CAError) -> Published {
        // A revocation noted while an issue was running needs one more round.
        for _ in 0..<3 {
            let state = states[ca] ?? State()
            if let full = state.full, let deltaCRL = state.delta, !isDue(full, deltaCRL, state) {
                return delta ? deltaCRL : full
            }
            try await publish(ca)
        }
        guard let state = states[ca], let full = state.full, let deltaCRL = state.delta else {
            throw CAError(.internalError, "the CRL of \(ca) could not be issued")
        }
        return delta ? deltaCRL : full
    }

    /// Issues `ca`'s full and delta CRL now (or joins an issue in progress).
    @discardableResult
    public func publish(_ ca: String) async throws(CAError) -> Published {
        if let running = states[ca]?.inflight {
            do { return try await running.value.0 } catch { throw CAError.from(error) }
        }
        if states[ca] == nil { states[ca] = State() }
        let revision = states[ca]?.revision ?? 0
        let task = Task { try await self.issue(ca) }
        states[ca]?.inflight = task
        defer { states[ca]?.inflight = nil }
        do {
            let (full, delta) = try await task.value
            states[ca]?.full = full
            states[ca]?.delta = delta
            states[ca]?.publishedRevision = revision
            if states[ca]?.revision == revision { states[ca]?.dirtySince = nil }
            return full
        } catch {
            throw CAError.from(error)
        }
    }

    /// Reissues what the schedule asks for: CRLs past half their validity, and CAs whose revocations
    /// have waited `revocationDelay`. CAs without a key here (trust anchors) have no CRL from Custos.
    public func publishDue() async {
        let records: [CARecord]
        do {
            records = try await store.read { reader in
                try reader.records(CARecord.self, after: nil, limit: .max).filter {
                    $0.keyName != nil && $0.certificate != nil
                }
            }
        } catch { return }
        var due: [String] = []
        for record in records { due += await scopes(of: record) }
        for id in due {
            let state = states[id] ?? State()
            let revocationsWaited =
                state.dirtySince.map { ContinuousClock.now - $0 >= configuration.crl.revocationDelay } ?? false
            let stale = state.full.map { full in state.delta.map { !isFresh(full) || !isFresh($0) } ?? true } ?? true
            if revocationsWaited || stale { _ = try? await publish(id) }
        }
    }

    /// The CRL scopes of a CA: one per key it has had.
    private func scopes(of record: CARecord) async -> [String] {
        var scopes: [String] = []
        for name in CertificateAuthority.keyNames(of: record) where (try? await signing.keys.serviceKey(name)) != nil {
            scopes.append(CertificateAuthority.crlScope(ca: record.id, keyName: name))
        }
        return scopes
    }

    private func isDue(_ full: Published, _ delta: Published, _ state: State) -> Bool {
        state.revision != state.publishedRevision || !isFresh(full) || !isFresh(delta)
    }

    /// Fresh until half its validity has passed.
    private func isFresh(_ crl: Published) -> Bool {
        Int64(Date().timeIntervalSince1970) < crl.thisUpdate + (crl.nextUpdate - crl.thisUpdate) / 2
    }

    // MARK: Issuing

    /// Issues the CRLs of `scope`: a CA's id (its first key) or `<id>.<suffix>` (a later key), signed
    /// by that key and checked with its newest certificate; each scope numbers its CRLs on its own.
    private nonisolated func issue(_ scope: String) async throws -> (Published, Published) {
        let (ca, keyName) = CertificateAuthority.parseCRLScope(scope)
        guard let record = try await store.read({ try $0.ca(id: ca) }) else {
            throw CAError(.unknownCA, "no CA is named \"\(ca)\"")
        }
        guard record.keyName != nil, record.certificate != nil else {
            throw CAError(.caNotUsable, "CA \(ca) has no key here and so no CRL from Custos")
        }
        let key: SigningKey
        do { key = try await signing.keys.serviceKey(keyName) } catch {
            throw CAError(.unknownCA, "CA \(ca) has no key for the CRL scope \"\(scope)\"")
        }
        let certificate = try CertificateAuthority.newestCertificate(of: key, in: record)
        let signer = try HSMPrivateKey(key, keyStore: signing.keyStore)
        let algorithm = signer.defaultSignatureAlgorithm
        let now = Int64(Date().timeIntervalSince1970)
        let fullNext = now + configuration.crl.validity.components.seconds
        let deltaNext = now + configuration.crl.deltaValidity.components.seconds
        // Reserve both numbers durably before anything is signed.
        let number = try await store.write { txn in
            let previous = try txn.crlNumber(scope: scope)
            let next = (previous?.number ?? 0) + 1
            try txn.save(
                CRLNumberRecord(
                    issuer: scope,
                    number: next + 1,
                    thisUpdate: now * 1_000_000_000,
                    nextUpdate: fullNext * 1_000_000_000
                )
            )
            try txn.appendAudit(
                AuditEvent(
                    actor: "custos",
                    action: "crl.issue",
                    object: "crl/\(scope)",
                    outcome: "success: full CRL \(next) and delta CRL \(next + 1), next update "
                        + ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(fullNext))),
                    requestID: nil
                )
            )
            return next
        }
        let issuerName = try Self.subjectBytes(certificate)
        let keyIdentifier = Array(
            (try? certificate.extensions.subjectKeyIdentifier)?.keyIdentifier
                ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        )
        let snapshot = Int64(Date().timeIntervalSince1970 * 1e9)
        let store = self.store
        let deltaURL = configuration.deltaCRLURL(scope)
        let revocations = try await Self.revocations(of: ca, in: store)
        let (fullTBS, deltaTBS, fullCount, deltaCount) = try await runOnDedicatedThread(name: "custos-crl") {
            let entries = revocations.map { Self.entry($0) }
            let recent = revocations.filter { $0.revokedAt >= snapshot - Self.deltaOverlapNanoseconds }.map {
                Self.entry($0)
            }
            let full = CertificateRevocationList(
                issuerName: issuerName,
                thisUpdate: now,
                nextUpdate: fullNext,
                entries: entries,
                number: number,
                authorityKeyIdentifier: keyIdentifier,
                freshestCRLURL: deltaURL
            )
            let delta = CertificateRevocationList(
                issuerName: issuerName,
                thisUpdate: now,
                nextUpdate: deltaNext,
                entries: recent,
                number: number + 1,
                authorityKeyIdentifier: keyIdentifier,
                baseNumber: number
            )
            return (try full.tbsBytes(algorithm), try delta.tbsBytes(algorithm), entries.count, recent.count)
        }
        let fullDER = try CertificateRevocationList.assemble(
            tbs: fullTBS,
            algorithm: algorithm,
            signature: try await signer.signatureValue(fullTBS, signatureAlgorithm: algorithm)
        )
        let deltaDER = try CertificateRevocationList.assemble(
            tbs: deltaTBS,
            algorithm: algorithm,
            signature: try await signer.signatureValue(deltaTBS, signatureAlgorithm: algorithm)
        )
        return (
            Published(
                der: fullDER,
                number: number,
                thisUpdate: now,
                nextUpdate: fullNext,
                entries: fullCount,
                snapshot: snapshot
            ),
            Published(
                der: deltaDER,
                number: number + 1,
                thisUpdate: now,
                nextUpdate: deltaNext,
                entries: deltaCount,
                snapshot: snapshot
            )
        )
    }

    /// Every revocation of `ca`, in serial order: one scan of the table's `ca` prefix.
    static func revocations(of ca: String, in store: any MetadataBackend) async throws -> [RevocationRecord] {
        try await store.read { try $0.revocations(issuer: ca) }
    }

    static func entry(_ record: RevocationRecord) -> RevokedCertificate {
        RevokedCertificate(
            serial: record.serial,
            revocationDate: record.revokedAt / 1_000_000_000,
            reason: CRLReason(rawValue: record.reason) ?? .unspecified,
            invalidityDate: record.invalidityDate.map { $0 / 1_000_000_000 }
        )
    }

    /// The subject `Name` bytes exactly as the CA certificate encodes them (section 5.1.2.3: the CRL
    /// issuer must match the certificate's subject).
    ///
    /// `TBSCertificate ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, serialNumber,
    /// signature, issuer, validity, subject, … }`
    public static func subjectBytes(_ certificate: Certificate) throws -> [UInt8] {
        let root = try DER.parse(certificate.tbsCertificateBytes)
        guard case .constructed(let children) = root.content else {
            throw CAError(.internalError, "the CA certificate's TBSCertificate is not a SEQUENCE")
        }
        var fields = Array(children)
        if fields.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            fields.removeFirst()
        }
        guard fields.count > 4 else { throw CAError(.internalError, "the CA certificate's TBSCertificate is short") }
        return Array(fields[4].encodedBytes)
    }
}
