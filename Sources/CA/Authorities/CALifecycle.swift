import Codecs
import CustosX509
import Foundation
public import MetadataStore
import Signing
import SwiftASN1
public import X509

/// The life of a CA after creation: a sub-CA of an external parent (key and CSR here, certificate
/// imported), renewal with the same or a new key, and retirement.
extension CertificateAuthority {
    /// Generates the key of an external parent's sub-CA and a CSR for it (signed in the HSM, asking for
    /// CA:true with the requested path length and keyCertSign/cRLSign). The CA is pending until
    /// `importCertificate`.
    func createExternal(_ request: NewCA, subject: DistinguishedName, requester: Requester) async throws(CAError)
        -> Authority
    {
        guard await (try? authority(request.id)) == nil else {
            throw CAError(.caExists, "a CA named \"\(request.id)\" exists already")
        }
        do {
            let key = try await signing.keys.createServiceKey(
                name: Self.keyName(request.id),
                algorithm: request.algorithm,
                requester: requester
            )
            let privateKey = try privateKey(key)
            let requested = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: request.pathLength))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: privateKey.publicKey)
            }
            let csr = try await CertificateSigningRequest(
                version: .v1,
                subject: subject,
                asyncPrivateKey: .init(privateKey),
                attributes: CertificateSigningRequest.Attributes([try .init(ExtensionRequest(extensions: requested))]),
                signatureAlgorithm: privateKey.defaultSignatureAlgorithm
            )
            let record = CARecord(
                id: request.id,
                tenant: request.tenant ?? configuration.defaultTenant,
                kind: .externalSubordinate,
                state: .pending,
                subject: DistinguishedNameText.format(subject),
                parent: nil,
                keyName: key.name,
                certificate: nil,
                created: Int64(Date().timeIntervalSince1970 * 1e9),
                csr: try derBytes(csr)
            )
            return try await storeNew(
                record,
                outcome: "success: external-subordinate \(record.subject) pending, \(request.algorithm.rawValue) key "
                    + "\(key.name), CSR made",
                requester: requester
            )
        } catch {
            throw CAError.from(error)
        }
    }

    /// Stores a new CA with its `ca.create` audit entry (and what `alsoWrite` writes) in one write, unless
    /// a CA of that id exists.
    func storeNew(
        _ record: CARecord,
        outcome: String,
        requester: Requester,
        alsoWrite: (@Sendable (any MetadataWriting) throws -> Void)? = nil
    ) async throws -> Authority {
        try await store.write { txn in
            guard try txn.record(CARecord.self, key: record.primaryKey) == nil else {
                throw CAError(.caExists, "a CA named \"\(record.id)\" exists already")
            }
            try txn.save(record)
            try alsoWrite?(txn)
            try txn.appendAudit(
                AuditEvent(
                    actor: requester.actor,
                    action: "ca.create",
                    object: "ca/\(record.id)",
                    outcome: outcome,
                    requestID: requester.requestID
                )
            )
        }
        return try Authority(record)
    }

    /// Imports the certificate an external parent issued for a sub-CA's CSR (or a renewed one), with
    /// the parent's chain above it. Checked: it certifies this CA's HSM key, it is a CA certificate
    /// allowed to sign certificates, it is valid now, and the first chain certificate signed it.
    public func importCertificate(
        ca id: String,
        certificate: Certificate,
        issuerChain: [Certificate],
        requester: Requester
    )
        async throws(CAError) -> Authority
    {
        let current = try await authority(id)
        if current.record.kind == .upstream {
            return try await importRACertificate(
                ca: id,
                certificate: certificate,
                issuerChain: issuerChain,
                requester: requester
            )
        }
        guard current.record.kind == .externalSubordinate, let keyName = current.keyName else {
            throw CAError(.caNotUsable, "CA \(id) is not a sub-CA of an external parent; its certificate is made here")
        }
        let key: SigningKey
        do { key = try await signing.keys.serviceKey(keyName) } catch { throw CAError.from(error) }
        guard (try? derBytes(certificate.publicKey)) == key.publicKey.derRepresentation else {
            throw CAError(.invalidCertificate, "the certificate does not certify CA \(id)'s key")
        }
        try Self.checkUsableCACertificate(certificate)
        guard !issuerChain.isEmpty else {
            throw CAError(.invalidCertificate, "the parent's certificate must come with it (issuerChain)")
        }
        try Self.checkSignedByFirst(of: issuerChain, certificate, what: "this certificate")
        do {
            let der = try derBytes(certificate)
            let chain = try issuerChain.map { try derBytes($0) }
            let record = try await store.write { txn in
                guard var record = try txn.ca(id: id) else {
                    throw CAError(.unknownCA, "no CA is named \"\(id)\"")
                }
                if let old = record.certificate { record.previousCertificates.append(old) }
                record.certificate = der
                record.issuerChain = chain
                record.state = record.state == .retired ? .retired : .active
                record.subject = DistinguishedNameText.format(certificate.subject)
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.import-certificate",
                        object: "ca/\(id)",
                        outcome: "success: issued by \(DistinguishedNameText.format(certificate.issuer)), serial "
                            + Hex.encode(Array(certificate.serialNumber.bytes)),
                        requestID: requester.requestID
                    )
                )
                return record
            }
            return try Authority(record)
        } catch {
            throw CAError.from(error)
        }
    }

    /// Refuses a certificate a CA of Custos cannot sign under: not a CA certificate with keyCertSign,
    /// or not valid now (five minutes of clock skew allowed).
    static func checkUsableCACertificate(_ certificate: Certificate) throws(CAError) {
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints,
            (try? certificate.extensions.keyUsage)?.keyCertSign == true
        else {
            throw CAError(
                .invalidCertificate,
                "the certificate is not a CA certificate (basicConstraints CA:true, keyCertSign)"
            )
        }
        let now = Date()
        guard certificate.notValidBefore <= now.addingTimeInterval(300), certificate.notValidAfter > now else {
            throw CAError(.invalidCertificate, "the certificate is not valid now")
        }
    }

    /// Renews a CA held here: a new certificate for the same subject and path length, signed by the
    /// parent (or itself, for a root), with the same key or, with `rekey`, a new HSM key. The old
    /// certificate stays in the record; certificates it issued stay valid.
    public func renew(ca id: String, rekey: Bool, validityDays: Int?, requester: Requester) async throws(CAError)
        -> Authority
    {
        let current = try await authority(id)
        guard current.record.kind == .root || current.record.kind == .intermediate else {
            throw CAError(
                .caNotUsable,
                "CA \(id) is renewed by its external parent: send it the CSR and import the new certificate"
            )
        }
        try current.requireUsable()
        guard let certificate = current.certificate, let keyName = current.keyName else {
            throw CAError(.caNotUsable, "CA \(id) cannot sign")
        }
        let parent = if let id = current.record.parent { try await authority(id) } else { Authority?.none }
        try parent?.requireUsable()
        let days = validityDays ?? (parent == nil ? 7305 : 3652)
        guard (1...36_525).contains(days) else { throw CAError(.invalidInput, "validityDays must be from 1 to 36525") }
        let validity = try Validity(days: days).within(parent, explicit: validityDays != nil, what: "the CA")
        do {
            let key: SigningKey
            if rekey {
                let generation = current.record.previousCertificates.count + 2
                key = try await signing.keys.createServiceKey(
                    name: "\(Self.keyName(id))-k\(generation)",
                    algorithm: try signing.keys.serviceKey(keyName).algorithm,
                    requester: requester
                )
            } else {
                key = try await signing.keys.serviceKey(keyName)
            }
            let (renewed, serial) = try await signCACertificate(
                subject: certificate.subject,
                key: try privateKey(key),
                pathLength: current.maxPathLength,
                validity: validity,
                parent: parent
            )
            let der = try derBytes(renewed)
            let certificateRecord = CertificateRecord(
                issuer: current.record.parent ?? id,
                serial: serial,
                subject: current.record.subject,
                notBefore: Int64(validity.notBefore.timeIntervalSince1970 * 1e9),
                notAfter: Int64(validity.notAfter.timeIntervalSince1970 * 1e9),
                der: der,
                metadata: ["ca": id],
                category: "ca"
            )
            let record = try await store.write { txn in
                guard var record = try txn.ca(id: id) else {
                    throw CAError(.unknownCA, "no CA is named \"\(id)\"")
                }
                if let old = record.certificate { record.previousCertificates.append(old) }
                record.certificate = der
                record.keyName = key.name
                try txn.save(record)
                try txn.save(certificateRecord)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.renew",
                        object: "ca/\(id)",
                        outcome: "success: serial \(Hex.encode(serial)), "
                            + (rekey ? "new key \(key.name)" : "same key \(key.name)"),
                        requestID: requester.requestID
                    )
                )
                return record
            }
            return try Authority(record)
        } catch {
            throw CAError.from(error)
        }
    }

    /// Retires a CA: it issues nothing more, and keeps publishing CRLs for what it issued.
    public func retire(ca id: String, requester: Requester) async throws(CAError) -> Authority {
        _ = try await authority(id)
        do {
            let record = try await store.write { txn in
                guard var record = try txn.ca(id: id) else {
                    throw CAError(.unknownCA, "no CA is named \"\(id)\"")
                }
                record.state = .retired
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.retire",
                        object: "ca/\(id)",
                        outcome: "success",
                        requestID: requester.requestID
                    )
                )
                return record
            }
            return try Authority(record)
        } catch {
            throw CAError.from(error)
        }
    }
}
