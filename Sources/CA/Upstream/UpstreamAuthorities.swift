import Codecs
import CustosX509
import Foundation
import HSM
public import MetadataStore
public import PKCS11
import Signing
import SwiftASN1
public import X509

/// Upstream CAs: CAs whose key is elsewhere and to which Custos forwards, as their registration
/// authority, what its profiles and policies accept. Certificates they issue are stored and managed as
/// those of Custos's own CAs (search, metadata, reports, revocation); they publish their own CRLs and
/// OCSP answers, so Custos signs neither for them.
extension CertificateAuthority {
    /// What a new upstream CA is to be.
    public struct NewUpstreamCA: Sendable {
        public var id: String
        public var tenant: String?
        /// The protocol spoken to it (one of `UpstreamConnectors.protocols`).
        public var protocolName: String
        /// Its endpoint (for CMP the full URL, `http(s)://host:port/path`).
        public var url: String
        /// The upstream CA's certificate (it signs what Custos asks for) and the certificates above it.
        public var certificate: Certificate
        public var issuerChain: [Certificate]
        /// Trust anchors for the upstream's signed answers; default: the top of the CA's chain.
        public var responseAnchors: [Certificate]
        /// The RA's subject in its CSR; default `CN=Custos RA for <id>`.
        public var raSubject: String?
        /// The RA key's algorithm.
        public var algorithm: KeyAlgorithm
        /// Bound on one exchange, polling included (1 to 600 s); and how often it is sent (1 to 10).
        public var timeoutSeconds: Int
        public var attempts: Int
        /// ACME external account binding: the key id and MAC key the upstream gave. The key is imported
        /// into the HSM (wrapped under `custos-upstream-eab-kek`) and this copy wiped.
        public var externalAccountKeyID: String?
        public var externalAccountKey: [UInt8]?

        public init(
            id: String,
            tenant: String? = nil,
            protocolName: String,
            url: String,
            certificate: Certificate,
            issuerChain: [Certificate] = [],
            responseAnchors: [Certificate] = [],
            raSubject: String? = nil,
            algorithm: KeyAlgorithm = .ecP256,
            timeoutSeconds: Int = 30,
            attempts: Int = 3,
            externalAccountKeyID: String? = nil,
            externalAccountKey: [UInt8]? = nil
        ) {
            self.externalAccountKeyID = externalAccountKeyID
            self.externalAccountKey = externalAccountKey
            self.id = id
            self.tenant = tenant
            self.protocolName = protocolName
            self.url = url
            self.certificate = certificate
            self.issuerChain = issuerChain
            self.responseAnchors = responseAnchors
            self.raSubject = raSubject
            self.algorithm = algorithm
            self.timeoutSeconds = timeoutSeconds
            self.attempts = attempts
        }
    }

    /// Records an upstream CA: makes the RA's key in the HSM and its CSR (signed there), and keeps the CA
    /// pending until the RA's certificate from the upstream PKI is imported (`importCertificate`).
    public func createUpstream(_ request: NewUpstreamCA, requester: Requester) async throws(CAError) -> Authority {
        // The MAC key is in this process only until the HSM has it.
        defer { Self.wipe(request.externalAccountKey) }
        try Self.validate(id: request.id)
        guard UpstreamConnectors.protocols.contains(request.protocolName) else {
            throw CAError(
                .invalidInput,
                "protocol must be one of \(UpstreamConnectors.protocols.joined(separator: ", ")), "
                    + "not \"\(request.protocolName)\""
            )
        }
        guard let url = URLComponents(string: request.url), url.scheme == "http" || url.scheme == "https",
            url.host?.isEmpty == false, request.url.utf8.count <= 2048
        else { throw CAError(.invalidInput, "url must be an http or https URL, not \"\(request.url.prefix(200))\"") }
        if request.protocolName != "cmp", url.scheme != "https" {
            throw CAError(.invalidInput, "an \(request.protocolName.uppercased()) upstream is reached over https")
        }
        try Self.checkExternalAccount(request)
        guard (1...600).contains(request.timeoutSeconds), (1...10).contains(request.attempts) else {
            throw CAError(.invalidInput, "timeoutSeconds must be 1 to 600 and attempts 1 to 10")
        }
        try Self.checkUsableCACertificate(request.certificate)
        if let parent = request.issuerChain.first {
            guard parent.subject == request.certificate.issuer,
                parent.publicKey.isValidSignature(request.certificate.signature, for: request.certificate)
            else {
                throw CAError(.invalidCertificate, "the first certificate of issuerChain did not sign the CA's")
            }
        }
        let raSubject = try DistinguishedNameText.parse(request.raSubject ?? "CN=Custos RA for \(request.id)")
        guard !raSubject.isEmpty else { throw CAError(.invalidInput, "raSubject must not be empty") }
        guard await (try? authority(request.id)) == nil else {
            throw CAError(.caExists, "a CA named \"\(request.id)\" exists already")
        }
        do {
            let anchors =
                request.responseAnchors.isEmpty
                ? [request.issuerChain.last ?? request.certificate] : request.responseAnchors
            var externalAccount: (wrapped: [UInt8], kek: String)?
            if let value = request.externalAccountKey {
                let kek = try await upstreamAccountKEK()
                let wrapped = try await signing.keyStore.importPlaintextKey(
                    value,
                    spec: SecretKeySpec(keyType: .genericSecret, byteCount: value.count),
                    kek: kek
                )
                externalAccount = (wrapped, kek.label)
            }
            let key = try await signing.keys.createServiceKey(
                name: "custos-upstream-\(request.id)",
                algorithm: request.algorithm,
                requester: requester
            )
            let privateKey = try privateKey(key)
            let csr = try await CertificateSigningRequest(
                version: .v1,
                subject: raSubject,
                asyncPrivateKey: .init(privateKey),
                attributes: CertificateSigningRequest.Attributes(),
                signatureAlgorithm: privateKey.defaultSignatureAlgorithm
            )
            let record = CARecord(
                id: request.id,
                tenant: request.tenant ?? configuration.defaultTenant,
                kind: .upstream,
                // An ACME account key needs no certificate: such a CA is usable at once.
                state: request.protocolName == "acme" ? .active : .pending,
                subject: DistinguishedNameText.format(request.certificate.subject),
                parent: nil,
                keyName: nil,
                certificate: try derBytes(request.certificate),
                created: Int64(Date().timeIntervalSince1970 * 1e9),
                csr: try derBytes(csr),
                issuerChain: try request.issuerChain.map { try derBytes($0) },
                upstream: UpstreamLink(
                    protocolName: request.protocolName,
                    url: request.url,
                    raKeyName: key.name,
                    responseAnchors: try anchors.map { try derBytes($0) },
                    timeoutSeconds: request.timeoutSeconds,
                    attempts: request.attempts,
                    externalAccountKeyID: request.externalAccountKeyID,
                    externalAccountKey: externalAccount?.wrapped,
                    externalAccountKEK: externalAccount?.kek
                )
            )
            return try await storeNew(
                record,
                outcome: "success: upstream \(record.subject) by \(request.protocolName) at "
                    + "\(request.url.prefix(300)), \(record.state.rawValue); RA key \(key.name) "
                    + "(\(request.algorithm.rawValue)), CSR made",
                requester: requester
            )
        } catch {
            throw CAError.from(error)
        }
    }

    /// The AES key in the HSM that ACME external account MAC keys are kept wrapped under.
    static let upstreamAccountKEKLabel = "custos-upstream-eab-kek"

    private func upstreamAccountKEK() async throws(CAError) -> KeyReference {
        let keyStore = signing.keyStore
        return try await creations.run(Self.upstreamAccountKEKLabel) { () async throws(CAError) in
            do {
                if let found = try await keyStore.findSecretKey(label: Self.upstreamAccountKEKLabel) { return found }
                return try await keyStore.generateAESKey(label: Self.upstreamAccountKEKLabel)
            } catch {
                throw CAError.from(error)
            }
        }
    }

    /// ACME needs an EC RA key (its JWS account key); an external account binding comes whole, its MAC
    /// key a multiple of 8 bytes from 16 to 128 (wrapped in the HSM without padding).
    private static func checkExternalAccount(_ request: NewUpstreamCA) throws(CAError) {
        if request.protocolName == "acme", ![.ecP256, .ecP384].contains(request.algorithm) {
            throw CAError(.invalidInput, "an ACME upstream's RA key (its account key) is ec-p256 or ec-p384")
        }
        guard request.externalAccountKeyID != nil || request.externalAccountKey != nil else { return }
        guard request.protocolName == "acme" else {
            throw CAError(.invalidInput, "an external account binding is for ACME upstreams")
        }
        guard let id = request.externalAccountKeyID, !id.isEmpty, id.utf8.count <= 256,
            let key = request.externalAccountKey, (16...128).contains(key.count), key.count % 8 == 0
        else {
            throw CAError(
                .invalidInput,
                "an external account binding needs its key id (1 to 256 bytes) and its MAC key (16 to 128 bytes, "
                    + "a multiple of 8, base64url)"
            )
        }
    }

    /// Overwrites a secret's bytes in the storage every copy of the array shares.
    private static func wipe(_ bytes: [UInt8]?) {
        bytes?.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            UnsafeMutablePointer(mutating: base).update(repeating: 0, count: buffer.count)
        }
    }

    /// Imports the RA's certificate from the upstream PKI: it must certify the RA's HSM key and be valid
    /// now. The upstream CA becomes active.
    func importRACertificate(
        ca id: String,
        certificate: Certificate,
        issuerChain: [Certificate],
        requester: Requester
    ) async throws(CAError) -> Authority {
        let current = try await authority(id)
        guard let link = current.record.upstream else { throw CAError(.caNotUsable, "CA \(id) is not upstream") }
        let key: SigningKey
        do { key = try await signing.keys.serviceKey(link.raKeyName) } catch { throw CAError.from(error) }
        guard (try? derBytes(certificate.publicKey)) == key.publicKey.derRepresentation else {
            throw CAError(.invalidCertificate, "the certificate does not certify the RA key of upstream CA \(id)")
        }
        let now = Date()
        guard certificate.notValidBefore <= now.addingTimeInterval(300), certificate.notValidAfter > now else {
            throw CAError(.invalidCertificate, "the RA certificate is not valid now")
        }
        try Self.checkSignedByFirst(of: issuerChain, certificate, what: "the RA certificate")
        do {
            let der = try derBytes(certificate)
            let chain = try issuerChain.map { try derBytes($0) }
            let record = try await store.write { txn in
                guard var record = try txn.ca(id: id), record.upstream != nil else {
                    throw CAError(.unknownCA, "no upstream CA is named \"\(id)\"")
                }
                record.upstream?.raCertificate = der
                record.upstream?.raChain = chain
                record.state = record.state == .retired ? .retired : .active
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "ca.import-certificate",
                        object: "ca/\(id)",
                        outcome: "success: RA certificate issued by \(DistinguishedNameText.format(certificate.issuer))"
                            + ", serial \(Hex.encode(Array(certificate.serialNumber.bytes)))",
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
