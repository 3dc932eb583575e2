import CustosX509
import Foundation
import MetadataStore
import Signing
import SwiftASN1
import WorkerThreads
public import X509

/// Issues each CA's CRLs, keeps them in the store and the current ones in memory for serving.
///
/// Every issue writes the CA's next CRL numbers to the store before signing, so a number is never
/// reused, also across restarts and nodes (RFC 5280 section 5.2.3: monotonically increasing). A full CRL
/// and a delta CRL are issued together and share the numbering (section 5.2.4): the full CRL gets N, the
/// delta N + 1 with base N. Both are reissued when half their validity has passed and
/// `revocationDelay` after revocations; a fetch of a CA with unpublished revocations reissues at once,
/// so a CRL served after a revocation always lists it. Reading the revocations and encoding the CRL
/// run on a dedicated thread (a CA can have millions of entries), signing goes through the pool.
///
/// Nodes on a shared store serve the same CRLs: each issue is stored (`CRLRecord`), and a node takes a
/// newer stored CRL when the CRL change stamp moves. A revocation made through another node is found
/// through the revocations' change stamp: the store's recent revocations of the CA are compared with
/// those the delta CRL lists (nodes' clocks must agree within `deltaOverlapNanoseconds`).
public actor CRLPublisher {
    /// A signed CRL and when it was made.
    public struct Published: Sendable {
        public let der: [UInt8]
        public let number: UInt64
        /// Seconds since 1970.
        public let thisUpdate: Int64
        public let nextUpdate: Int64
        public let entries: Int
    }

    /// A scope's full and delta CRL and what they were made from.
    struct Current: Sendable {
        let full: Published
        let delta: Published
        /// Revocations committed before this instant (ns since 1970) are in the full CRL.
        let snapshot: Int64
        /// The revocations' change stamp of that snapshot.
        let revocationStamp: UInt64
        /// What the delta CRL lists.
        let recent: Set<CRLRecord.Revoked>

        init(_ record: CRLRecord) {
            full = Published(
                der: record.full,
                number: record.number,
                thisUpdate: record.thisUpdate,
                nextUpdate: record.fullNextUpdate,
                entries: record.fullEntries
            )
            delta = Published(
                der: record.delta,
                number: record.number + 1,
                thisUpdate: record.thisUpdate,
                nextUpdate: record.deltaNextUpdate,
                entries: record.recent.count
            )
            snapshot = record.snapshot
            revocationStamp = record.revocationStamp
            recent = Set(record.recent)
        }
    }

    private struct State {
        var current: Current?
        /// Revocations up to this change stamp must be in the CRLs (noted here or found in the store).
        var dirtyStamp: UInt64 = 0
        var dirtySince: ContinuousClock.Instant?
        var inflight: Task<Current, any Error>?
        /// The CRL table's change stamp when the stored CRL was last compared with `current`.
        var storedStamp: UInt64?
        /// Revocations up to this stamp were checked and are in `current`.
        var checkedStamp: UInt64 = 0

        var isBehind: Bool { current.map { dirtyStamp > $0.revocationStamp } ?? true }
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

    /// Marks `ca`'s CRLs as behind after a revocation committed: the next fetch, or the schedule after
    /// `revocationDelay`, reissues.
    func noteRevocation(ca: String) async {
        let stamp = try? await store.knownChangeStamp(RevocationRecord.self)
        // Every key's CRLs list every revocation of the CA, so all of its scopes are behind.
        let scopes = Set(states.keys.filter { $0.hasPrefix(ca + ".") } + [ca])
        for scope in scopes { markBehind(scope, upTo: stamp) }
    }

    /// `stamp` nil: the stamp could not be read; then anything newer than the current CRLs.
    private func markBehind(_ scope: String, upTo stamp: UInt64?) {
        var state = states[scope] ?? State()
        let required = stamp ?? ((state.current?.revocationStamp ?? 0) + 1)
        state.dirtyStamp = max(state.dirtyStamp, required)
        if state.isBehind, state.dirtySince == nil { state.dirtySince = .now }
        states[scope] = state
    }

    /// The current full (or delta) CRL of `ca`, issued first if there is none yet, it is due, or
    /// revocations are not in it yet.
    public func current(_ ca: String, delta: Bool = false) async throws(CAError) -> Published {
        // A revocation noted while an issue was running needs one more round.
        for _ in 0..<3 {
            await catchUp(ca)
            if let state = states[ca], let current = state.current, !isDue(current, state) {
                return delta ? current.delta : current.full
            }
            try await publish(ca)
        }
        guard let current = states[ca]?.current else {
            throw CAError(.internalError, "the CRL of \(ca) could not be issued")
        }
        return delta ? current.delta : current.full
    }

    /// Issues `ca`'s full and delta CRL now (or joins an issue in progress).
    @discardableResult
    public func publish(_ ca: String) async throws(CAError) -> Published {
        if let running = states[ca]?.inflight {
            do { return try await running.value.full } catch { throw CAError.from(error) }
        }
        let task = Task { try await self.issue(ca) }
        states[ca, default: State()].inflight = task
        defer { states[ca]?.inflight = nil }
        do {
            let issued = try await task.value
            adopt(issued, scope: ca)
            return issued.full
        } catch {
            throw CAError.from(error)
        }
    }

    /// Reissues what the schedule asks for: CRLs past half their validity, and CAs whose revocations
    /// (made here or through another node) have waited `revocationDelay`. CAs without a key here (trust
    /// anchors) have no CRL from Custos. On a shared store one node runs this, under a lease.
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
            await catchUp(id)
            let state = states[id] ?? State()
            let revocationsWaited =
                state.dirtySince.map { ContinuousClock.now - $0 >= configuration.crl.revocationDelay } ?? false
            let stale = state.current.map { !isFresh($0.full) || !isFresh($0.delta) } ?? true
            if revocationsWaited || stale { _ = try? await publish(id) }
        }
    }

    /// Takes what other nodes did: a newer CRL in the store, and revocations the current CRL lacks. A
    /// store that cannot be read leaves things as they are (the CRL in memory is still valid).
    private func catchUp(_ scope: String) async {
        guard let crlStamp = try? await store.knownChangeStamp(CRLRecord.self) else { return }
        if states[scope]?.storedStamp != crlStamp {
            let stored: CRLRecord?
            do { stored = try await store.read { try $0.crl(scope: scope) } } catch { return }
            if let stored { adopt(Current(stored), scope: scope) }
            states[scope, default: State()].storedStamp = crlStamp
        }
        guard let current = states[scope]?.current,
            let revocationStamp = try? await store.knownChangeStamp(RevocationRecord.self),
            revocationStamp > max(current.revocationStamp, states[scope]?.checkedStamp ?? 0)
        else { return }
        let (ca, _) = CertificateAuthority.parseCRLScope(scope)
        guard let missing = try? await Self.lacksRevocations(current, of: ca, in: store) else { return }
        if missing {
            markBehind(scope, upTo: revocationStamp)
        } else if states[scope]?.current?.full.number == current.full.number {
            states[scope]?.checkedStamp = revocationStamp
        }
    }

    /// Keeps `issued` if it is newer than the CRLs in memory.
    private func adopt(_ issued: Current, scope: String) {
        var state = states[scope] ?? State()
        if issued.full.number > state.current?.full.number ?? 0 { state.current = issued }
        if !state.isBehind { state.dirtySince = nil }
        states[scope] = state
    }

    /// Whether the store holds a revocation of `ca` that `current` does not list: one index range of the
    /// revocations since the delta CRL's window began.
    static func lacksRevocations(_ current: Current, of ca: String, in store: any MetadataBackend) async throws
        -> Bool
    {
        let since = current.snapshot - deltaOverlapNanoseconds
        let listed = current.recent
        return try await store.read { reader in
            try reader.revocations(issuer: ca, since: since).contains {
                !listed.contains(CRLRecord.Revoked(serial: $0.serial, revokedAt: $0.revokedAt))
            }
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

    private func isDue(_ current: Current, _ state: State) -> Bool {
        state.isBehind || !isFresh(current.full) || !isFresh(current.delta)
    }

    /// Fresh until half its validity has passed.
    private func isFresh(_ crl: Published) -> Bool {
        Int64(Date().timeIntervalSince1970) < crl.thisUpdate + (crl.nextUpdate - crl.thisUpdate) / 2
    }

    // MARK: Issuing

    /// Issues the CRLs of `scope`: a CA's id (its first key) or `<id>.<suffix>` (a later key), signed
    /// by that key and checked with its newest certificate; each scope numbers its CRLs on its own.
    private nonisolated func issue(_ scope: String) async throws -> Current {
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
        // The stamp from the same snapshot as the revocations: every revocation up to it is listed.
        let (revocationStamp, revocations) = try await store.read { reader in
            (try reader.changeStamp(RevocationRecord.self), try reader.revocations(issuer: ca))
        }
        let (fullTBS, deltaTBS, fullCount, recentRevoked) = try await runOnDedicatedThread(name: "custos-crl") {
            let entries = revocations.map { Self.entry($0) }
            let recentRecords = revocations.filter { $0.revokedAt >= snapshot - Self.deltaOverlapNanoseconds }
            let recent = recentRecords.map { Self.entry($0) }
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
            return (
                try full.tbsBytes(algorithm), try delta.tbsBytes(algorithm), entries.count,
                recentRecords.map { CRLRecord.Revoked(serial: $0.serial, revokedAt: $0.revokedAt) }
            )
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
        let published = CRLRecord(
            scope: scope,
            number: number,
            thisUpdate: now,
            fullNextUpdate: fullNext,
            deltaNextUpdate: deltaNext,
            snapshot: snapshot,
            revocationStamp: revocationStamp,
            fullEntries: fullCount,
            recent: recentRevoked,
            full: fullDER,
            delta: deltaDER
        )
        // Kept for every node unless another node stored a newer one meanwhile.
        try await store.write { txn in
            if let stored = try txn.crl(scope: scope), stored.number >= number { return }
            try txn.save(published)
        }
        return Current(published)
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
