import Codecs
import CustosX509
import Foundation
public import MetadataStore
import Signing
import SwiftASN1
public import X509

/// Bringing existing certificates into Custos: CA certificates of other PKIs (trust anchors and
/// intermediates, with no key here), and certificates a CA issued before Custos held it (bulk, from
/// DER, PEM or PKCS#7), so that they can be searched, reported on and revoked.
public struct CertificateImporter: Sendable {
    public let store: any MetadataBackend
    /// Tenant of imported CAs given none.
    public let defaultTenant: String

    public init(store: any MetadataBackend, defaultTenant: String = "default") {
        self.store = store
        self.defaultTenant = defaultTenant
    }

    /// Read afresh (imports are rare; the issuing path's cache lives in `CertificateAuthority`).
    private func authority(_ id: String) async throws(CAError) -> Authority {
        let authority: Authority?
        do { authority = try await store.read { try Authority.stored(id, in: $0) } } catch { throw CAError.from(error) }
        guard let authority else { throw CAError(.unknownCA, "no CA is named \"\(id)\"") }
        return authority
    }

    /// The certificates in `bytes`: PEM (any number of CERTIFICATE or PKCS7 blocks), one DER
    /// certificate, a DER PKCS#7 bundle, or a PKCS#12 file opened with `pkcs12Password` (none: the
    /// empty password). A private key in a PKCS#12 file is ignored and its buffers cleared.
    public static func readCertificates(_ bytes: [UInt8], pkcs12Password: [UInt8]? = nil) throws(CAError)
        -> [Certificate]
    {
        if bytes.starts(with: Array("-----BEGIN".utf8))
            || String(decoding: bytes.prefix(200), as: UTF8.self).contains("-----BEGIN")
        {
            let text = String(decoding: bytes, as: UTF8.self)
            // PEM.blocks fails on a block without its END line: a cut-off file must not import half.
            let blocks: [PEM.Block]
            do { blocks = try PEM.blocks(text) } catch {
                throw CAError(.invalidCertificate, "the PEM text is malformed or truncated: \(error)")
            }
            var certificates: [Certificate] = []
            for block in blocks {
                switch block.label {
                case "CERTIFICATE":
                    do { certificates.append(try Certificate(derEncoded: block.der)) } catch {
                        throw CAError(.invalidCertificate, "a PEM CERTIFICATE does not parse: \(error)")
                    }
                case "PKCS7", "CMS": certificates += try PKCS7CertificateBundle.certificates(fromDER: block.der)
                default: throw CAError(.invalidCertificate, "PEM \(block.label) is not a certificate")
                }
            }
            guard !certificates.isEmpty else { throw CAError(.invalidCertificate, "no certificate in the PEM text") }
            return certificates
        }
        if let certificate = try? Certificate(derEncoded: bytes) { return [certificate] }
        if let certificates = try? PKCS7CertificateBundle.certificates(fromDER: bytes) { return certificates }
        let file: PKCS12File
        do { file = try PKCS12File(der: bytes, password: pkcs12Password ?? []) } catch {
            guard error.code == .invalidInput else {
                throw CAError(.invalidCertificate, "neither a DER certificate nor PKCS#7 nor PKCS#12, nor PEM")
            }
            throw error
        }
        file.clearKey()
        let certificates = (file.certificate.map { [$0] } ?? []) + file.chain
        guard !certificates.isEmpty else { throw CAError(.invalidCertificate, "PKCS#12: the file has no certificate") }
        return certificates
    }

    /// Adds a CA certificate of another PKI as a CA without a key here (`trust-anchor`): it can be the
    /// parent of nothing Custos signs, but its certificates can be imported, searched and reported on.
    /// With `parent` (another such CA), the certificate must be signed by it.
    public func importAuthority(
        id: String,
        certificate: Certificate,
        parent: String?,
        tenant: String?,
        requester: Requester
    )
        async throws(CAError) -> Authority
    {
        try CertificateAuthority.validate(id: id)
        guard case .isCertificateAuthority = try? certificate.extensions.basicConstraints else {
            throw CAError(.invalidCertificate, "the certificate is not a CA certificate (basicConstraints CA:true)")
        }
        if let parent {
            guard let parentCertificate = try await authority(parent).certificate,
                parentCertificate.subject == certificate.issuer,
                parentCertificate.publicKey.isValidSignature(certificate.signature, for: certificate)
            else { throw CAError(.invalidCertificate, "CA \(parent) did not sign this certificate") }
        }
        do {
            let record = CARecord(
                id: id,
                tenant: tenant ?? defaultTenant,
                kind: .trustAnchor,
                state: .active,
                subject: DistinguishedNameText.format(certificate.subject),
                parent: parent,
                keyName: nil,
                certificate: try derBytes(certificate),
                created: Int64(Date().timeIntervalSince1970 * 1e9)
            )
            try await store.write { txn in
                guard try txn.record(CARecord.self, key: record.primaryKey) == nil else {
                    throw CAError(.caExists, "a CA named \"\(id)\" exists already")
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.import",
                        object: "ca/\(id)",
                        outcome: "success: trust anchor \(record.subject), serial "
                            + Hex.encode(Array(certificate.serialNumber.bytes)),
                        requestID: requester.requestID
                    )
                )
            }
            return try Authority(record)
        } catch {
            throw CAError.from(error)
        }
    }

    /// What a bulk import did.
    public struct ImportResult: Sendable, Codable {
        public var imported: Int
        /// Serial (hex) and why, for certificates left out.
        public var skipped: [Skipped]

        public struct Skipped: Sendable, Codable {
            public var serial: String
            public var reason: String
        }
    }

    /// Stores certificates `ca` issued outside Custos, with `metadata` on each. Each must name the CA
    /// as issuer and carry its signature; ones already stored (same serial) are skipped. Written 500 at
    /// a time, each certificate with its audit entry; `progress` hears (done, total) after each group.
    public func importCertificates(
        _ certificates: [Certificate],
        ca id: String,
        metadata: [String: String] = [:],
        requester: Requester,
        progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws(CAError) -> ImportResult {
        try CertificateAuthority.validate(metadata: metadata)
        guard let issuer = try await authority(id).certificate else {
            throw CAError(.caNotUsable, "CA \(id) has no certificate yet to check the imported ones with")
        }
        var result = ImportResult(imported: 0, skipped: [])
        var records: [CertificateRecord] = []
        for certificate in certificates {
            let serial = Array(certificate.serialNumber.bytes)
            guard certificate.issuer == issuer.subject,
                issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
            else {
                result.skipped.append(.init(serial: Hex.encode(serial), reason: "not signed by CA \(id)"))
                continue
            }
            let names = Array((try? certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames())
            do {
                records.append(
                    CertificateRecord(
                        issuer: id,
                        serial: serial,
                        subject: DistinguishedNameText.format(certificate.subject),
                        notBefore: Int64(certificate.notValidBefore.timeIntervalSince1970 * 1e9),
                        notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970 * 1e9),
                        der: try derBytes(certificate),
                        metadata: metadata,
                        category: "",
                        alternativeNames: names.compactMap { try? SubjectAlternativeName($0).description }
                    )
                )
            } catch {
                result.skipped.append(.init(serial: Hex.encode(serial), reason: "cannot be encoded: \(error)"))
            }
        }
        var done = 0
        for start in stride(from: 0, to: records.count, by: 500) {
            let group = Array(records[start..<min(start + 500, records.count)])
            do {
                let duplicates = try await store.write { txn in
                    var duplicates: [String] = []
                    for record in group {
                        guard try txn.record(CertificateRecord.self, key: record.primaryKey) == nil else {
                            duplicates.append(Hex.encode(record.serial))
                            continue
                        }
                        try txn.save(record)
                        try txn.appendAudit(
                            AuditEvent(
                                actor: requester.actor,
                                action: "certificate.import",
                                object: "certificate/\(id)/\(Hex.encode(record.serial))",
                                outcome: "success: \(record.subject)",
                                requestID: requester.requestID
                            )
                        )
                    }
                    return duplicates
                }
                result.imported += group.count - duplicates.count
                result.skipped += duplicates.map { .init(serial: $0, reason: "already stored") }
            } catch {
                throw CAError.from(error)
            }
            done += group.count
            progress(done, records.count)
        }
        return result
    }
}
