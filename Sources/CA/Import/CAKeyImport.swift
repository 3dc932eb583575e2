import Codecs
import CustosX509
import Foundation
public import MetadataStore
import Signing
import X509

extension CertificateAuthority {
    /// Takes over a CA that exists elsewhere, with its private key, from a PKCS#12 file: the key
    /// becomes a sensitive, non-extractable HSM object (service key `custos-ca-<id>`), and the CA
    /// issues, revokes and publishes CRLs here from then on.
    ///
    /// The file must hold an RSA (2048, 3072, 4096 bits) or EC (P-256, P-384, P-521) key and its CA
    /// certificate (CA:true, keyCertSign, valid now). A self-signed certificate makes a root; any
    /// other a sub-CA of an external parent, whose issuing certificates must be in the file too (they
    /// become the CA's chain). The key's plaintext is in libcrypto's buffers from parsing until the
    /// HSM holds it, then cleared; nothing of it is logged or stored. Both the key import and the CA
    /// are audited.
    public func importAuthority(
        id: String,
        pkcs12: [UInt8],
        password: [UInt8],
        tenant: String?,
        requester: Requester
    ) async throws(CAError) -> Authority {
        try Self.validate(id: id)
        guard await (try? authority(id)) == nil else { throw CAError(.caExists, "a CA named \"\(id)\" exists already") }
        let file = try PKCS12File(der: pkcs12, password: password)
        defer { file.clearKey() }
        guard let certificate = file.certificate else {
            throw CAError(.invalidInput, "PKCS#12: the file has no certificate for its key")
        }
        let algorithm = try file.keyAlgorithm()
        try Self.checkUsableCACertificate(certificate)
        let selfSigned =
            certificate.subject == certificate.issuer
            && certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        let issuerChain = selfSigned ? [] : Self.issuers(of: certificate, among: file.chain)
        guard selfSigned || !issuerChain.isEmpty else {
            throw CAError(
                .invalidCertificate,
                "PKCS#12: the certificate of the CA that issued \(DistinguishedNameText.format(certificate.subject)) "
                    + "is not in the file; export it with its chain"
            )
        }
        do {
            let publicKey = certificate.publicKey
            let key = try await signing.keys.importServiceKey(
                name: Self.keyName(id),
                algorithm: algorithm,
                requester: requester
            ) { try file.keyValues(publicKey: publicKey, algorithm: algorithm) }
            file.clearKey()
            guard try privateKey(key).publicKey == publicKey else {
                throw CAError(.internalError, "the key in the HSM does not match the certificate")
            }
            return try await register(
                id: id,
                tenant: tenant,
                certificate: certificate,
                selfSigned: selfSigned,
                issuerChain: issuerChain,
                key: key,
                how: "with its \(algorithm.rawValue) key, moved from PKCS#12 into the HSM as \(key.name)",
                requester: requester
            )
        } catch {
            throw CAError.from(error)
        }
    }

    /// Records a CA whose key is in the HSM already (imported or adopted): its record, a root's own
    /// certificate, and the audit entry saying `how` the key got there.
    func register(
        id: String,
        tenant: String?,
        certificate: Certificate,
        selfSigned: Bool,
        issuerChain: [Certificate],
        key: SigningKey,
        how: String,
        requester: Requester
    ) async throws -> Authority {
        let der = try derBytes(certificate)
        let record = CARecord(
            id: id,
            tenant: tenant ?? configuration.defaultTenant,
            kind: selfSigned ? .root : .externalSubordinate,
            state: .active,
            subject: DistinguishedNameText.format(certificate.subject),
            parent: nil,
            keyName: key.name,
            certificate: der,
            created: Int64(Date().timeIntervalSince1970 * 1e9),
            issuerChain: try issuerChain.map { try derBytes($0) }
        )
        // A root's own certificate is one it issued, as for roots made here.
        let ownCertificate = CertificateRecord(
            issuer: id,
            serial: Array(certificate.serialNumber.bytes),
            subject: record.subject,
            notBefore: Int64(certificate.notValidBefore.timeIntervalSince1970 * 1e9),
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970 * 1e9),
            der: der,
            metadata: ["ca": id],
            category: "ca"
        )
        try await store.write { txn in
            guard try txn.record(CARecord.self, key: record.primaryKey) == nil else {
                throw CAError(.caExists, "a CA named \"\(id)\" exists already")
            }
            try txn.save(record)
            if selfSigned { try txn.save(ownCertificate) }
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "ca.import",
                    object: "ca/\(id)",
                    outcome: "success: \(record.kind.rawValue) \(record.subject) \(how), serial "
                        + Hex.encode(Array(certificate.serialNumber.bytes)),
                    requestID: requester.requestID
                )
            )
        }
        return try Authority(record)
    }

    /// The issuers of `certificate` found in `candidates`, nearest first, each checked by signature;
    /// stops at a self-signed certificate or a missing link.
    static func issuers(of certificate: Certificate, among candidates: [Certificate]) -> [Certificate] {
        var chain: [Certificate] = []
        var current = certificate
        while chain.count < 16,
            let issuer = candidates.first(where: {
                $0.subject == current.issuer && $0.publicKey.isValidSignature(current.signature, for: current)
            }),
            !chain.contains(issuer)
        {
            chain.append(issuer)
            if issuer.subject == issuer.issuer { break }
            current = issuer
        }
        return chain
    }
}
