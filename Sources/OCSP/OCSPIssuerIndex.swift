import CA
import Crypto
import CustosX509
import Foundation
import MetadataStore
import Signing
import X509

/// Which CA key a CertID names, and which key signed a certificate: an index of the CAs Custos signs
/// for, rebuilt when the CA table's change stamp moves.
extension OCSPResponder {
    /// The issuer a CertID names, rebuilding the index when it names none and the CA table changed
    /// since it was built, so that CAs created or re-keyed since (by any process) are found.
    func issuer(for certID: CertID) async throws -> Issuer? {
        guard let tag = Self.algorithmTag(certID) else { return nil }
        let lookup = [tag] + certID.issuerNameHash + certID.issuerKeyHash
        if let found = index.withLock({ $0.issuers[lookup] }) { return found }
        return try await rebuiltIndexIfChanged()?.issuers[lookup]
    }

    /// The key of `ca` that signed the certificate `serial`: the CA's only key, or the one whose
    /// certificate verifies the certificate's signature.
    func issuer(ofCertificate serial: [UInt8], ca: String) async throws -> Issuer? {
        var candidates = index.withLock { $0.byCA[ca] } ?? []
        if candidates.isEmpty { candidates = try await rebuiltIndexIfChanged()?.byCA[ca] ?? [] }
        guard candidates.count > 1 else { return candidates.first }
        guard let record = try await authority.store.read({ try $0.certificate(issuer: ca, serial: serial) }) else {
            return nil
        }
        let certificate = try ParsedCertificates.certificate(record.der)
        return candidates.first { $0.certificate.publicKey.isValidSignature(certificate.signature, for: certificate) }
    }

    /// The index rebuilt, if the CA table's change stamp moved since it was built (or a CA's key was
    /// missing then and a second has passed); nil if it is current. Reading the stamp costs one lookup,
    /// so a request naming an issuer Custos does not serve does not rebuild anything.
    func rebuiltIndexIfChanged() async throws -> Index? {
        let stamp = try await authority.store.read { try $0.changeStamp(CARecord.self) }
        let due = index.withLock { index in
            index.stamp != stamp || index.incompleteSince.map { ContinuousClock.now - $0 > .seconds(1) } ?? false
        }
        guard due else { return nil }
        let rebuilt = try await buildIndex()
        index.withLock { index in
            // Two rebuilds at once: the one from the newer snapshot stays.
            if rebuilt.stamp ?? 0 >= index.stamp ?? 0 { index = rebuilt }
        }
        return rebuilt
    }

    /// The index tag of a CertID's hash algorithm: 1 SHA-1, 2 SHA-256, nil for others.
    static func algorithmTag(_ certID: CertID) -> UInt8? {
        switch certID.hashAlgorithm {
        case CertID.sha1: 1
        case CertID.sha256: 2
        default: nil
        }
    }

    func buildIndex() async throws -> Index {
        let (records, stamp) = try await authority.store.read { reader in
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
                guard let key = try? await authority.signing.keys.serviceKey(name),
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
