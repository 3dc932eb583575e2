// Over 400 lines: the CA service: its caches and the lookups that issuance, revocation, renewal and import share.
import Codecs
import CustosX509
import Foundation
import HSM
public import MetadataStore
public import PKCS11
public import Signing
import SwiftASN1
public import X509

/// The certificate authority: creates root and subordinate CAs whose keys live in the HSM, and issues
/// certificates from CSRs under issuance policies. Every change commits together with its audit entry.
///
/// CA keys are Custos service keys (`custos-ca-<id>`): the signing API neither lists nor uses them.
public final class CertificateAuthority: Sendable {
    public let signing: SigningService
    public let store: any MetadataBackend
    public let configuration: CAConfiguration
    /// The CAs' current CRLs.
    public let crls: CRLPublisher
    /// Serial numbers from the token's RNG.
    let serials: SerialNumbers
    /// CAs as decoded, by id, while no CA record changes (every issuance reads its CA).
    let authorities = ChangeStampedCache<String, Authority?>()
    /// Policies as stored, by CA and category, while no policy changes (every issuance reads one).
    let policies = ChangeStampedCache<PolicyKey, PolicyRecord?>()
    /// Serializes the creation of per-CA service keys (SCEP RAs) within this process.
    let creations = CreationGate()

    struct PolicyKey: Hashable, Sendable {
        var ca: String
        var category: CertificateCategory
    }

    /// The protocols this process speaks to upstream CAs.
    let upstream: UpstreamConnectors

    public init(
        signing: SigningService,
        store: any MetadataBackend,
        configuration: CAConfiguration = .init(),
        upstream: UpstreamConnectors = .init()
    ) {
        self.upstream = upstream
        self.signing = signing
        self.store = store
        self.configuration = configuration
        crls = CRLPublisher(store: store, signing: signing, configuration: configuration)
        serials = SerialNumbers(keyStore: signing.keyStore)
    }

    /// What a new CA is to be.
    public struct NewCA: Sendable {
        /// 1 to 64 of `a-z 0-9 -`, starting with a letter or digit; it appears in URLs (`/crl/<id>.crl`).
        public var id: String
        /// Subject DN as RFC 4514 text.
        public var subject: String
        public var algorithm: KeyAlgorithm
        /// Default: 20 years for roots, 10 for subordinates.
        public var validityDays: Int?
        /// The path length constraint; nil: none for roots, 0 for subordinates (they issue end entities).
        public var pathLength: Int?
        /// The parent CA's id for a subordinate CA held by Custos; nil for a root.
        public var parent: String?
        public var tenant: String?
        /// A sub-CA of a parent outside Custos: Custos makes the key and a CSR, and the CA stays pending
        /// until the parent's certificate is imported (`importCertificate`).
        public var external: Bool

        public init(
            id: String,
            subject: String,
            algorithm: KeyAlgorithm,
            validityDays: Int? = nil,
            pathLength: Int? = nil,
            parent: String? = nil,
            tenant: String? = nil,
            external: Bool = false
        ) {
            self.id = id
            self.subject = subject
            self.algorithm = algorithm
            self.validityDays = validityDays
            self.pathLength = pathLength
            self.parent = parent
            self.tenant = tenant
            self.external = external
        }
    }

    // MARK: Reading

    /// The CA with `id`.
    public func authority(_ id: String) async throws(CAError) -> Authority {
        let authority: Authority?
        do {
            authority = try await authorities.value(id, watching: CARecord.self, in: store) { reader in
                try Authority.stored(id, in: reader)
            }
        } catch {
            throw CAError.from(error)
        }
        guard let authority else { throw CAError(.unknownCA, "no CA is named \"\(id)\"") }
        return authority
    }

    /// CAs in id order after `cursor`, at most `limit`, of `tenant` if given.
    public func list(after cursor: String?, limit: Int, tenant: String? = nil) async throws(CAError) -> [Authority] {
        do {
            let records = try await store.read { reader in
                if let tenant {
                    return try reader.cas(tenant: tenant)
                        .filter { cursor == nil || $0.id > cursor! }.prefix(limit).map { $0 }
                }
                return try reader.cas(after: cursor, limit: limit)
            }
            return try records.map { record throws(CAError) in try Authority(record) }
        } catch {
            throw CAError.from(error)
        }
    }

    /// The chain of a CA, itself first, up to the root Custos holds (or as far as Custos knows it).
    public func chain(_ id: String) async throws(CAError) -> [Certificate] {
        var chain: [Certificate] = []
        var next: String? = id
        while let current = next, chain.count < 16 {
            let authority = try await authority(current)
            guard let certificate = authority.certificate else {
                throw CAError(.caNotUsable, "CA \(current) has no certificate yet")
            }
            chain.append(certificate)
            next = authority.record.parent
            if next == nil {
                do { chain += try authority.record.issuerChain.map { try ParsedCertificates.certificate($0) } } catch {
                    throw CAError(.internalError, "the stored parent chain of CA \(current) does not parse: \(error)")
                }
            }
        }
        return chain
    }

    /// The chain of `authority` in DER as stored, itself first: what `chain` gives, without parsing or
    /// serialising certificates (issuance returns it with every certificate).
    func chainDER(from authority: Authority) async throws(CAError) -> [[UInt8]] {
        var chain: [[UInt8]] = []
        var current = authority
        while chain.count < 16 {
            guard let certificate = current.record.certificate else {
                throw CAError(.caNotUsable, "CA \(current.id) has no certificate yet")
            }
            chain.append(certificate)
            guard let parent = current.record.parent else { return chain + current.record.issuerChain }
            current = try await self.authority(parent)
        }
        return chain
    }

    /// The certificate `serial` (hex) issued by `ca`.
    public func certificate(ca: String, serial: String) async throws(CAError) -> CertificateRecord {
        guard let bytes = SerialNumbers.bytes(hex: serial) else {
            throw CAError(.invalidInput, "\"\(serial)\" is not a serial number in hex")
        }
        let record: CertificateRecord?
        do { record = try await store.read { try $0.certificate(issuer: ca, serial: bytes) } } catch {
            throw CAError.from(error)
        }
        guard let record else {
            throw CAError(.unknownCertificate, "CA \(ca) has issued no certificate with serial \(serial)")
        }
        return record
    }

    // MARK: Creating CAs

    /// Creates a root CA (self-signed) or, with `parent`, a subordinate CA signed by a CA Custos holds.
    /// The key is generated in the HSM; nothing is stored if a check fails before that.
    public func create(_ request: NewCA, requester: Requester) async throws(CAError) -> Authority {
        try Self.validate(id: request.id)
        let subject = try DistinguishedNameText.parse(request.subject)
        guard !subject.isEmpty else { throw CAError(.invalidInput, "a CA needs a subject name") }
        if request.external {
            guard request.parent == nil else {
                throw CAError(.invalidInput, "an external sub-CA has its parent outside Custos; leave parent out")
            }
            return try await createExternal(request, subject: subject, requester: requester)
        }
        let isRoot = request.parent == nil
        let validityDays = request.validityDays ?? (isRoot ? 7305 : 3652)
        guard (1...36_525).contains(validityDays) else {
            throw CAError(.invalidInput, "validityDays must be from 1 to 36525")
        }
        if let length = request.pathLength, !Self.pathLengths.contains(length) {
            throw CAError(
                .invalidInput,
                "pathLength must be \(Self.pathLengths.lowerBound) to \(Self.pathLengths.upperBound) (CAs that may "
                    + "follow this one in a chain), not \(length)"
            )
        }
        let parent = if let id = request.parent { try await authority(id) } else { Authority?.none }
        let pathLength = request.pathLength ?? (isRoot ? nil : 0)
        var validity = Validity(days: validityDays)
        if let parent {
            try parent.requireUsable()
            if let parentLength = parent.maxPathLength {
                guard parentLength > 0 else {
                    throw CAError(
                        .policyViolation,
                        "rule pathLength: CA \(parent.id) has path length 0 and cannot certify another CA"
                    )
                }
                guard let pathLength, pathLength < parentLength else {
                    throw CAError(
                        .policyViolation,
                        "rule pathLength: under CA \(parent.id) (path length \(parentLength)) a sub-CA's path "
                            + "length must be at most \(parentLength - 1)"
                    )
                }
            }
            validity = try validity.within(parent, explicit: request.validityDays != nil, what: "the sub-CA")
        }
        guard await (try? authority(request.id)) == nil else {
            throw CAError(.caExists, "a CA named \"\(request.id)\" exists already")
        }
        do {
            let key = try await signing.keys.createServiceKey(
                name: Self.keyName(request.id),
                algorithm: request.algorithm,
                requester: requester
            )
            let (certificate, serial) = try await signCACertificate(
                subject: subject,
                key: try privateKey(key),
                pathLength: pathLength,
                validity: validity,
                parent: parent
            )
            let der = try derBytes(certificate)
            let record = CARecord(
                id: request.id,
                tenant: request.tenant ?? parent?.record.tenant ?? configuration.defaultTenant,
                kind: isRoot ? .root : .intermediate,
                state: .active,
                subject: DistinguishedNameText.format(subject),
                parent: request.parent,
                keyName: key.name,
                certificate: der,
                created: Int64(Date().timeIntervalSince1970 * 1e9)
            )
            let certificateRecord = CertificateRecord(
                issuer: request.parent ?? request.id,
                serial: serial,
                subject: record.subject,
                notBefore: Int64(validity.notBefore.timeIntervalSince1970 * 1e9),
                notAfter: Int64(validity.notAfter.timeIntervalSince1970 * 1e9),
                der: der,
                metadata: ["ca": request.id],
                category: "ca"
            )
            return try await storeNew(
                record,
                outcome: "success: \(record.kind.rawValue) \(record.subject), \(request.algorithm.rawValue) key "
                    + "\(key.name), serial \(Hex.encode(serial))"
                    + (request.parent.map { ", signed by CA \($0)" } ?? ""),
                requester: requester
            ) { txn in
                guard try txn.record(CertificateRecord.self, key: certificateRecord.primaryKey) == nil else {
                    throw CAError(.internalError, "serial number collision; try again")
                }
                try txn.save(certificateRecord)
            }
        } catch {
            throw CAError.from(error)
        }
    }

    // MARK: Helpers

    /// A CA certificate for `key`: self-signed without `parent`, else signed by the parent's key.
    func signCACertificate(
        subject: DistinguishedName,
        key: HSMPrivateKey,
        pathLength: Int?,
        validity: Validity,
        parent: Authority?
    ) async throws -> (Certificate, [UInt8]) {
        let serial = try await serials.next()
        let issuerKey: HSMPrivateKey
        let issuerName: DistinguishedName
        var extensions = Certificate.Extensions()
        try extensions.append(
            Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: pathLength), critical: true)
        )
        try extensions.append(
            Certificate.Extension(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true), critical: true)
        )
        try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false))
        if let parent, let parentCertificate = parent.certificate, let parentKeyName = parent.keyName {
            issuerKey = try await privateKey(try signing.keys.serviceKey(parentKeyName))
            issuerName = parentCertificate.subject
            try extensions.append(
                Certificate.Extension(
                    AuthorityKeyIdentifier(keyIdentifier: parent.subjectKeyIdentifier),
                    critical: false
                )
            )
            try appendRevocationPointers(for: parent, into: &extensions)
        } else {
            issuerKey = key
            issuerName = subject
        }
        let certificate = try await Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(bytes: serial[...]),
            publicKey: key.publicKey,
            notValidBefore: validity.notBefore,
            notValidAfter: validity.notAfter,
            issuer: issuerName,
            subject: subject,
            signatureAlgorithm: issuerKey.defaultSignatureAlgorithm,
            extensions: extensions,
            issuerAsyncPrivateKey: .init(issuerKey)
        )
        return (certificate, serial)
    }

    static func keyName(_ ca: String) -> String { "custos-ca-\(ca)" }

    /// The path lengths a CA may be given: as key ceremonies allow; deeper chains are not a PKI that
    /// validators or operators handle.
    public static let pathLengths = 0...8

    /// The CRL scope of a CA key: the CA's id for its first key (`custos-ca-<id>`), `<id>.<suffix>` for
    /// a key made by a re-key (`custos-ca-<id>-<suffix>`). Each scope has its own CRLs, signed by its
    /// key, at `/crl/<scope>.crl`. CA ids cannot contain '.', so scopes never collide with them.
    public static func crlScope(ca: String, keyName: String) -> String {
        let first = Self.keyName(ca)
        guard keyName != first, keyName.hasPrefix(first + "-") else { return ca }
        return ca + "." + keyName.dropFirst(first.count + 1)
    }

    /// The names the service keys of a CA can have: its first key and those of re-keys
    /// (`custos-ca-<id>-k<n>`, n up to the number of certificates it has had). Not all need exist.
    public static func keyNames(of record: CARecord) -> [String] {
        let first = keyName(record.id)
        let count = record.previousCertificates.count + 1
        let names = [first] + (count >= 2 ? (2...count).map { "\(first)-k\($0)" } : [])
        return Set(names + [record.keyName].compactMap { $0 }).sorted()
    }

    /// The CA and key of a CRL scope (see `crlScope`).
    public static func parseCRLScope(_ scope: String) -> (ca: String, keyName: String) {
        guard let dot = scope.firstIndex(of: ".") else { return (scope, keyName(scope)) }
        let ca = String(scope[..<dot])
        return (ca, keyName(ca) + "-" + scope[scope.index(after: dot)...])
    }

    /// The CRL scope of `ca`'s current key.
    public func currentCRLScope(_ ca: String) async throws(CAError) -> String {
        let authority = try await authority(ca)
        guard let keyName = authority.keyName else {
            throw CAError(.caNotUsable, "CA \(ca) has no key here and so no CRL from Custos")
        }
        return Self.crlScope(ca: ca, keyName: keyName)
    }

    /// The newest certificate of `scope`'s key (the current one, or one from before a re-key): what
    /// `/ca/<scope>.crt` serves and what the scope's CRLs are checked with.
    public func certificate(forScope scope: String) async throws(CAError) -> Certificate {
        let (ca, keyName) = Self.parseCRLScope(scope)
        let record = try await authority(ca).record
        let key: SigningKey
        do { key = try await signing.keys.serviceKey(keyName) } catch {
            throw CAError(.unknownCA, "CA \(ca) has no key for \"\(scope)\"")
        }
        return try Self.newestCertificate(of: key, in: record)
    }

    /// The newest certificate in `record` (current first, then previous ones, newest first) that
    /// certifies `key`.
    public static func newestCertificate(of key: SigningKey, in record: CARecord) throws(CAError) -> Certificate {
        let candidates = (record.certificate.map { [$0] } ?? []) + record.previousCertificates.reversed()
        for der in candidates {
            guard let certificate = try? ParsedCertificates.certificate(der) else { continue }
            if (try? derBytes(certificate.publicKey)) == key.publicKey.derRepresentation { return certificate }
        }
        throw CAError(.caNotUsable, "CA \(record.id) has no certificate for key \(key.name)")
    }

    /// CA ids: 1 to 64 of `a-z 0-9 -`, starting with a letter or digit.
    static func validate(id: String) throws(CAError) {
        let bytes = Array(id.utf8)
        let allowed = { (byte: UInt8) in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
        }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), bytes[0] != 0x2D else {
            throw CAError(
                .invalidInput,
                "a CA id has 1 to 64 characters from a-z 0-9 - and starts with a letter or digit"
            )
        }
    }

    /// The HSM private key behind `key`, for swift-certificates and the OCSP responder to sign with.
    public func privateKey(_ key: SigningKey) throws -> HSMPrivateKey {
        try HSMPrivateKey(key, keyStore: signing.keyStore)
    }

    /// CRL distribution point, Freshest CRL (the delta CRL), OCSP and CA-issuers URLs of `issuer`, when
    /// Custos knows its public URL.
    func appendRevocationPointers(
        for authority: Authority,
        into extensions: inout Certificate.Extensions,
        policy: IssuancePolicy? = nil,
        category: CertificateCategory? = nil
    ) throws {
        // Both pointers name the issuing key's scope: after a re-key, certificates signed by the new
        // key point at its CRL and certificate, while older ones keep pointing at the old key's.
        let issuer = authority.keyName.map { Self.crlScope(ca: authority.id, keyName: $0) } ?? authority.id
        let crlURLs = policy?.crlDistributionPoints ?? configuration.crlURL(issuer).map { [$0] } ?? []
        if !crlURLs.isEmpty {
            try extensions.append(try CRLDistributionPoints(urls: crlURLs).makeCertificateExtension())
        }
        // Custos publishes a delta CRL beside each full one, and the full CRL points at it. Strict
        // validators take delta locations from the certificate only (RFC 5280 section 4.2.1.15), so the
        // certificate names it too. Not with a policy's own CRL URLs: Custos does not publish those.
        // TLS server certificates leave it out: the CA/Browser Forum profile allows no other extensions
        // (Baseline Requirements 7.1.2.7.6), and browsers do not read delta CRLs.
        if policy?.crlDistributionPoints == nil, category != .tlsServer,
            let deltaURL = configuration.deltaCRLURL(issuer)
        {
            try extensions.append(
                try CRLDistributionPoints(urls: [deltaURL], freshest: true).makeCertificateExtension()
            )
        }
        let issuerURLs = policy?.caIssuersURLs ?? configuration.caIssuersURL(issuer).map { [$0] } ?? []
        let ocspURLs = policy?.ocspURLs ?? configuration.ocspURL.map { [$0] } ?? []
        let access =
            ocspURLs.map {
                AuthorityInformationAccess.AccessDescription(
                    method: .ocspServer,
                    location: .uniformResourceIdentifier($0)
                )
            }
            + issuerURLs.map {
                AuthorityInformationAccess.AccessDescription(
                    method: .issuingCA,
                    location: .uniformResourceIdentifier($0)
                )
            }
        if !access.isEmpty {
            try extensions.append(Certificate.Extension(AuthorityInformationAccess(access), critical: false))
        }
    }
}

/// A validity period starting now (whole seconds) and lasting `days` days, both ends included
/// (RFC 5280 section 4.1.2.5: the period runs from notBefore through notAfter, inclusive).
struct Validity {
    let notBefore: Date
    let notAfter: Date

    init(days: Int, from now: Date = Date()) {
        notBefore = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        notAfter = notBefore.addingTimeInterval(Double(days) * 86_400 - 1)
    }

    init(notBefore: Date, notAfter: Date) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// This validity inside the issuer's (rule validityWithinIssuer): a default one is cut to end with
    /// the issuer's; one asked for `explicit`ly that does not fit is refused.
    func within(_ issuer: Authority?, explicit: Bool, what: String) throws(CAError) -> Validity {
        guard let issuer, let end = issuer.notAfter, notAfter > end else { return self }
        guard !explicit else {
            throw CAError(
                .policyViolation,
                "rule validityWithinIssuer: \(what) would outlive CA \(issuer.id), valid until \(end)"
            )
        }
        return Validity(notBefore: notBefore, notAfter: end)
    }
}
