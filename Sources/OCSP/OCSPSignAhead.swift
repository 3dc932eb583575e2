import CA
import Foundation
import MetadataStore
import WorkerThreads

/// Signing ahead: responses for every unexpired certificate, kept in the store and signed again after
/// half their validity, so that a relying party's request is answered without the HSM.
extension OCSPResponder {
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

    func refreshPass(limit: Int, scanLimit: Int, deferringNew window: Duration?) async -> RefreshPass {
        let now = Int64(Date().timeIntervalSince1970)
        var failure: String?
        // CAs created since the index was built: their certificates are signed for in this pass.
        do { _ = try await rebuiltIndexIfChanged() } catch { failure = "reading the CAs: \(error)" }
        var signed = 0
        var deferred = false
        // 1. Stored responses past half their validity.
        let due: [OCSPResponseRecord]
        do {
            due = try await authority.store.read { reader in
                try reader.ocspResponses(thisUpdateBefore: now - self.validitySeconds / 2, limit: limit)
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
                (batch, missing) = try await authority.store.read { reader in
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
    func presign(_ items: [(ca: String, serial: [UInt8], tag: UInt8)], at now: Int64) async -> Int {
        await withTaskGroup(of: Bool.self) { group in
            for item in items {
                group.addTask { await self.presign(ca: item.ca, serial: item.serial, tag: item.tag, at: now) }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    /// Signs and keeps the response for one certificate, if Custos signs for its issuer.
    func presign(ca: String, serial: [UInt8], tag: UInt8, at now: Int64) async -> Bool {
        do {
            guard let signer = try await issuer(ofCertificate: serial, ca: ca) else { return false }
            let status = try await status(ca: ca, serial: serial)
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
}
