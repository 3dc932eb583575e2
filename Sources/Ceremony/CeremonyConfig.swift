// Over 400 lines: one strict parser for the whole ceremony file, section by section, so the reviewed schema reads in one place.
import CA
import Codecs
import CustosX509
import Foundation
import HSM
public import PKCS11
import SwiftASN1
import X509
import Yams

/// Why a ceremony refused or failed: one line for the officers, naming the field or step.
public struct CeremonyError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One ceremony, as reviewed before the day: a YAML file parsed strictly (an unknown or missing key
/// is an error naming it) and validated section by section before any HSM call.
///
/// ```yaml
/// type: root                  # key | root (others: intermediate, cross-certificate, csr, ocsp-signer, crl)
/// officers: [Alice Martin, Bob Chen]
/// hsm:
///   profile: softhsm2
///   token: ceremony-token
///   pinShares: [alice.share, bob.share]   # or pinPrompt: true, or pinFile: (rehearsals only)
///   auditKey: custos-ceremony-audit       # signs the transcript (generated on first use)
/// key:
///   algorithm: ec-p384
///   label: acme-root-2026
///   id: 0a1b2c3d                          # CKA_ID in hex; random from the HSM when absent
/// certificate:                            # root only
///   subject: CN=Acme Root CA 2026,O=Acme,C=DE
///   validityDays: 7300
///   pathLength: 1
/// outputs:
///   publicKey: acme-root-2026.pub.pem
///   certificate: acme-root-2026.pem
///   transcript: acme-root-2026.transcript.json
/// ```
public struct CeremonyConfig: Sendable, Decodable {
    public enum Kind: String, Sendable, Decodable, CaseIterable {
        case key, root, intermediate, crossCertificate = "cross-certificate", csr, ocspSigner = "ocsp-signer", crl

        /// The kinds `run` performs today.
        static let implemented: [Kind] = [.key, .root, .intermediate, .csr, .crossCertificate, .ocspSigner, .crl]

        /// The kinds that sign with a key already on the token (the issuer's) and generate none.
        var signsWithIssuer: Bool { [.intermediate, .crossCertificate, .ocspSigner].contains(self) }
    }

    public struct HSMSection: Sendable, Decodable {
        public var profile: String
        public var module: String?
        public var token: String
        /// Share files, one per officer present; their number must reach the shares' threshold.
        public var pinShares: [String]?
        /// Ask for the shares at the terminal, without echo.
        public var pinPrompt: Bool?
        /// A PIN file: for rehearsals on a test token, never for a production ceremony.
        public var pinFile: String?
        /// The label of the key that signs the transcript.
        public var auditKey: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case profile, module, token, pinShares, pinPrompt, pinFile, auditKey
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            profile = try c.decode(String.self, forKey: .profile)
            module = try c.decodeIfPresent(String.self, forKey: .module)
            token = try c.decode(String.self, forKey: .token)
            pinShares = try c.decodeIfPresent([String].self, forKey: .pinShares)
            pinPrompt = try c.decodeIfPresent(Bool.self, forKey: .pinPrompt)
            pinFile = try c.decodeIfPresent(String.self, forKey: .pinFile)
            auditKey = try c.decodeIfPresent(String.self, forKey: .auditKey)
        }
    }

    public struct KeySection: Sendable, Decodable {
        public var algorithm: String
        public var label: String
        public var id: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case algorithm, label, id }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            algorithm = try c.decode(String.self, forKey: .algorithm)
            label = try c.decode(String.self, forKey: .label)
            id = try c.decodeIfPresent(String.self, forKey: .id)
        }
    }

    public struct CertificateSection: Sendable, Decodable {
        /// Absent for a cross-certificate (the other CA's subject is used).
        public var subject: String?
        public var validityDays: Int
        public var pathLength: Int?
        /// For an intermediate: where relying parties find the issuer's CRL, OCSP responder and
        /// certificate.
        public var crlURL: String?
        public var ocspURL: String?
        public var issuersURL: String?
        /// Certificate policy OIDs (dotted), e.g. 2.23.140.1.2.1 or the anyPolicy 2.5.29.32.0.
        public var policies: [String]?
        /// For an intermediate or cross-certificate: the EKUs its certificates are limited to
        /// (serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, ocspSigning).
        public var extendedKeyUsages: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case subject, validityDays, pathLength, crlURL, ocspURL, issuersURL, policies, extendedKeyUsages
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            subject = try c.decodeIfPresent(String.self, forKey: .subject)
            validityDays = try c.decode(Int.self, forKey: .validityDays)
            pathLength = try c.decodeIfPresent(Int.self, forKey: .pathLength)
            crlURL = try c.decodeIfPresent(String.self, forKey: .crlURL)
            ocspURL = try c.decodeIfPresent(String.self, forKey: .ocspURL)
            issuersURL = try c.decodeIfPresent(String.self, forKey: .issuersURL)
            policies = try c.decodeIfPresent([String].self, forKey: .policies)
            extendedKeyUsages = try c.decodeIfPresent([String].self, forKey: .extendedKeyUsages)
        }
    }

    /// For a csr ceremony: what the external parent is asked to certify.
    public struct RequestSection: Sendable, Decodable {
        public var subject: String
        public var pathLength: Int?

        enum CodingKeys: String, CodingKey, CaseIterable { case subject, pathLength }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            subject = try c.decode(String.self, forKey: .subject)
            pathLength = try c.decodeIfPresent(Int.self, forKey: .pathLength)
        }
    }

    /// For a crl ceremony: the CRL's number, lifetime and entries.
    public struct CRLSection: Sendable, Decodable {
        public struct Entry: Sendable, Decodable {
            /// The revoked certificate (PEM), or its serial in hex.
            public var certificate: String?
            public var serial: String?
            /// An RFC 5280 reason name (`keyCompromise`, `cACompromise`, `superseded`, …).
            public var reason: String

            enum CodingKeys: String, CodingKey, CaseIterable { case certificate, serial, reason }

            public init(from decoder: any Decoder) throws {
                try decoder.rejectUnknownKeys(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                certificate = try c.decodeIfPresent(String.self, forKey: .certificate)
                serial = try c.decodeIfPresent(String.self, forKey: .serial)
                reason = try c.decode(String.self, forKey: .reason)
            }
        }

        /// The CRL number: the officers keep the sequence (each ceremony's transcript records it).
        public var number: UInt64
        public var nextUpdateDays: Int
        public var revoked: [Entry]

        enum CodingKeys: String, CodingKey, CaseIterable { case number, nextUpdateDays, revoked }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            number = try c.decode(UInt64.self, forKey: .number)
            nextUpdateDays = try c.decode(Int.self, forKey: .nextUpdateDays)
            revoked = try c.decodeIfPresent([Entry].self, forKey: .revoked) ?? []
        }
    }

    /// For an intermediate: the signing key on the token and its certificate.
    public struct IssuerSection: Sendable, Decodable {
        public var label: String
        public var certificate: String

        enum CodingKeys: String, CodingKey, CaseIterable { case label, certificate }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            label = try c.decode(String.self, forKey: .label)
            certificate = try c.decode(String.self, forKey: .certificate)
        }
    }

    /// For an intermediate: the key to certify, as a CSR (its signature is checked) or a public key.
    public struct SubjectKeySection: Sendable, Decodable {
        public var csr: String?
        public var publicKey: String?
        /// For a cross-certificate: the other CA's certificate (its subject and key).
        public var certificate: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case csr, publicKey, certificate }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            csr = try c.decodeIfPresent(String.self, forKey: .csr)
            publicKey = try c.decodeIfPresent(String.self, forKey: .publicKey)
            certificate = try c.decodeIfPresent(String.self, forKey: .certificate)
        }
    }

    public struct OutputSection: Sendable, Decodable {
        public var publicKey: String?
        public var certificate: String?
        public var csr: String?
        /// A crl ceremony's CRL (DER).
        public var crl: String?
        public var transcript: String

        enum CodingKeys: String, CodingKey, CaseIterable { case publicKey, certificate, csr, crl, transcript }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            publicKey = try c.decodeIfPresent(String.self, forKey: .publicKey)
            certificate = try c.decodeIfPresent(String.self, forKey: .certificate)
            csr = try c.decodeIfPresent(String.self, forKey: .csr)
            crl = try c.decodeIfPresent(String.self, forKey: .crl)
            transcript = try c.decode(String.self, forKey: .transcript)
        }
    }

    public var type: Kind
    public var officers: [String]
    public var hsm: HSMSection
    /// The key to generate (key and root ceremonies).
    public var key: KeySection?
    public var issuer: IssuerSection?
    public var subjectKey: SubjectKeySection?
    public var request: RequestSection?
    public var crl: CRLSection?
    public var certificate: CertificateSection?
    public var outputs: OutputSection
    /// SHA-256 of the file as read: the transcript names exactly what was reviewed.
    public private(set) var sha256: [UInt8] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, officers, hsm, key, issuer, subjectKey, request, crl, certificate, outputs
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(Kind.self, forKey: .type)
        officers = try c.decode([String].self, forKey: .officers)
        hsm = try c.decode(HSMSection.self, forKey: .hsm)
        key = try c.decodeIfPresent(KeySection.self, forKey: .key)
        issuer = try c.decodeIfPresent(IssuerSection.self, forKey: .issuer)
        subjectKey = try c.decodeIfPresent(SubjectKeySection.self, forKey: .subjectKey)
        request = try c.decodeIfPresent(RequestSection.self, forKey: .request)
        crl = try c.decodeIfPresent(CRLSection.self, forKey: .crl)
        certificate = try c.decodeIfPresent(CertificateSection.self, forKey: .certificate)
        outputs = try c.decode(OutputSection.self, forKey: .outputs)
    }

    /// The most a root certificate may be valid: 25 years.
    public static let maxRootValidityDays = 25 * 365 + 6
    /// The most a sub-CA certificate may be valid: 10 years.
    public static let maxSubordinateValidityDays = 10 * 365 + 3
    /// The most a delegated OCSP signer's certificate may be valid: they are short-lived (its
    /// revocation is not checked, RFC 6960 section 4.2.2.2.1).
    public static let maxOCSPSignerValidityDays = 90

    /// The validity cap of the certificate this ceremony signs.
    public var maxValidityDays: Int {
        switch type {
        case .root: Self.maxRootValidityDays
        case .ocspSigner: Self.maxOCSPSignerValidityDays
        default: Self.maxSubordinateValidityDays
        }
    }
    /// The algorithms a ceremony generates: RSA of 3072 or 4096 bits, the NIST curves and Ed25519.
    public static let allowedAlgorithms: [KeyAlgorithm] = [.rsa3072, .rsa4096, .ecP256, .ecP384, .ecP521, .ed25519]

    /// Parses and validates a ceremony file. Paths inside it are relative to the file's directory.
    public static func load(file: String) throws(CeremonyError) -> CeremonyConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CeremonyError("cannot read the ceremony file \(file)")
        }
        var config: CeremonyConfig
        do {
            config = try YAMLDecoder().decode(CeremonyConfig.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            throw CeremonyError("\(file): \(error.summary)")
        } catch {
            throw CeremonyError("\(file): not valid YAML: \(error)")
        }
        config.sha256 = digest(Array(data))
        let base = URL(fileURLWithPath: file).deletingLastPathComponent().path
        config.resolvePaths(relativeTo: base)
        try config.validate()
        return config
    }

    /// The key algorithm, validated.
    public var algorithm: KeyAlgorithm {
        get throws(CeremonyError) {
            guard let key else { throw CeremonyError("key: a \(type.rawValue) ceremony needs this section") }
            guard let algorithm = KeyAlgorithm(rawValue: key.algorithm), Self.allowedAlgorithms.contains(algorithm)
            else {
                throw CeremonyError(
                    "key.algorithm: \"\(key.algorithm)\" is not allowed; one of "
                        + Self.allowedAlgorithms.map(\.rawValue).joined(separator: ", ")
                )
            }
            return algorithm
        }
    }

    /// The requested `CKA_ID`, if any.
    public var keyID: [UInt8]? {
        get throws(CeremonyError) {
            guard let id = key?.id else { return nil }
            guard let bytes = Hex.decode(id), (1...32).contains(bytes.count) else {
                throw CeremonyError("key.id: 1 to 32 bytes in hex, not \"\(id)\"")
            }
            return bytes
        }
    }

    /// Every check that needs no HSM: each section's fields, the ceremony's limits, the outputs.
    func validate() throws(CeremonyError) {
        guard Kind.implemented.contains(type) else {
            throw CeremonyError(
                "type: \(type.rawValue) ceremonies are not implemented yet (implemented: "
                    + Kind.implemented.map(\.rawValue).joined(separator: ", ") + ")"
            )
        }
        guard !officers.isEmpty, officers.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw CeremonyError("officers: name at least one officer present")
        }
        let pinWays = [hsm.pinShares != nil, hsm.pinPrompt == true, hsm.pinFile != nil].filter { $0 }.count
        guard pinWays == 1 else { throw CeremonyError("hsm: give exactly one of pinShares, pinPrompt: true, pinFile") }
        if let shares = hsm.pinShares, shares.count < 2 {
            throw CeremonyError("hsm.pinShares: a quorum needs at least 2 share files")
        }
        guard !hsm.token.isEmpty, hsm.token.utf8.count <= 32 else { throw CeremonyError("hsm.token: 1 to 32 bytes") }
        if type == .crl {
            try validateCRL()
        } else if type.signsWithIssuer {
            try validateIntermediate()
        } else {
            guard let key else { throw CeremonyError("key: a \(type.rawValue) ceremony needs this section") }
            guard (1...128).contains(key.label.utf8.count) else { throw CeremonyError("key.label: 1 to 128 bytes") }
            if let auditKey = hsm.auditKey, auditKey == key.label {
                throw CeremonyError("hsm.auditKey: must differ from key.label")
            }
            _ = try algorithm
            _ = try keyID
            guard issuer == nil, subjectKey == nil else {
                throw CeremonyError("issuer, subjectKey: only an intermediate ceremony has them")
            }
        }
        if type != .csr, request != nil || outputs.csr != nil {
            throw CeremonyError("request, outputs.csr: only a csr ceremony has them")
        }
        if type != .crl, crl != nil || outputs.crl != nil {
            throw CeremonyError("crl, outputs.crl: only a crl ceremony has them")
        }
        switch type {
        case .intermediate, .crossCertificate, .ocspSigner, .crl:
            break
        case .root:
            guard let certificate else { throw CeremonyError("certificate: a root ceremony needs this section") }
            guard (1...Self.maxRootValidityDays).contains(certificate.validityDays) else {
                throw CeremonyError(
                    "certificate.validityDays: \(certificate.validityDays) is over the cap for a root (25 years, \(Self.maxRootValidityDays) days)"
                )
            }
            if let pathLength = certificate.pathLength, !(0...8).contains(pathLength) {
                throw CeremonyError("certificate.pathLength: 0 to 8")
            }
            _ = try policyOIDs
            guard certificate.extendedKeyUsages == nil else {
                throw CeremonyError("certificate.extendedKeyUsages: a root carries none")
            }
            do { _ = try DistinguishedNameText.parse(certificate.subject ?? "") } catch {
                throw CeremonyError("certificate.subject: \(error)")
            }
            guard outputs.certificate != nil else {
                throw CeremonyError("outputs.certificate: a root ceremony writes one")
            }
        case .csr:
            guard let request else { throw CeremonyError("request: a csr ceremony needs the subject to request") }
            guard certificate == nil, outputs.certificate == nil else {
                throw CeremonyError("certificate: a csr ceremony writes a CSR, not a certificate")
            }
            guard outputs.csr != nil else { throw CeremonyError("outputs.csr: a csr ceremony writes one") }
            do { _ = try DistinguishedNameText.parse(request.subject) } catch {
                throw CeremonyError("request.subject: \(error)")
            }
            if let pathLength = request.pathLength, !(0...8).contains(pathLength) {
                throw CeremonyError("request.pathLength: 0 to 8")
            }
        default:
            guard certificate == nil else { throw CeremonyError("certificate: a \(type.rawValue) ceremony has none") }
            guard outputs.certificate == nil else {
                throw CeremonyError("outputs.certificate: a \(type.rawValue) ceremony writes no certificate")
            }
            guard outputs.publicKey != nil else { throw CeremonyError("outputs.publicKey: a key ceremony writes one") }
        }
        for (field, path) in outputPaths where FileManager.default.fileExists(atPath: path) {
            throw CeremonyError("outputs.\(field): \(path) exists; a ceremony never overwrites a file")
        }
    }

    /// An intermediate: the issuer's certificate and the subject's CSR or public key are read and
    /// checked here (the CSR's signature too), before any HSM call.
    private func validateIntermediate() throws(CeremonyError) {
        let kind = "a \(type.rawValue) ceremony"
        guard key == nil else { throw CeremonyError("key: \(kind) generates no key (see subjectKey)") }
        guard let issuer else { throw CeremonyError("issuer: \(kind) needs the issuer's label and certificate") }
        guard let certificate else { throw CeremonyError("certificate: \(kind) needs this section") }
        guard outputs.certificate != nil, outputs.publicKey == nil else {
            throw CeremonyError("outputs: \(kind) writes certificate and transcript")
        }
        if type == .crossCertificate {
            guard subjectKey?.certificate != nil, subjectKey?.csr == nil, subjectKey?.publicKey == nil else {
                throw CeremonyError("subjectKey.certificate: a cross-certificate certifies another CA's certificate")
            }
            guard certificate.subject == nil else {
                throw CeremonyError("certificate.subject: a cross-certificate keeps the other CA's subject; remove it")
            }
        } else {
            guard subjectKey?.certificate == nil else {
                throw CeremonyError("subjectKey.certificate: only a cross-certificate takes a certificate")
            }
            guard certificate.subject != nil else {
                throw CeremonyError("certificate.subject: required key is missing")
            }
        }
        if type == .ocspSigner, certificate.pathLength != nil {
            throw CeremonyError("certificate.pathLength: an OCSP signer is not a CA")
        }
        let issuerCertificate = try Self.readCertificate(issuer.certificate, field: "issuer.certificate")
        guard (try? issuerCertificate.extensions.basicConstraints) != nil,
            case .isCertificateAuthority = try? issuerCertificate.extensions.basicConstraints
        else { throw CeremonyError("issuer.certificate: not a CA certificate") }
        _ = try Self.subjectPublicKey(subjectKey)
        guard (1...maxValidityDays).contains(certificate.validityDays) else {
            throw CeremonyError(
                "certificate.validityDays: \(certificate.validityDays) is over the cap of \(maxValidityDays) days for \(kind)"
            )
        }
        let notAfter = Date().addingTimeInterval(Double(certificate.validityDays) * 86_400)
        guard notAfter <= issuerCertificate.notValidAfter else {
            throw CeremonyError(
                "certificate.validityDays: the certificate would outlive its issuer (until \(issuerCertificate.notValidAfter))"
            )
        }
        if let pathLength = certificate.pathLength, !(0...8).contains(pathLength) {
            throw CeremonyError("certificate.pathLength: 0 to 8")
        }
        if let subject = certificate.subject {
            do { _ = try DistinguishedNameText.parse(subject) } catch {
                throw CeremonyError("certificate.subject: \(error)")
            }
        }
        _ = try policyOIDs
        _ = try extendedKeyUsages
        if certificate.extendedKeyUsages != nil, type == .ocspSigner || type == .root {
            throw CeremonyError("certificate.extendedKeyUsages: only intermediates and cross-certificates take them")
        }
        for (field, url) in [
            ("crlURL", certificate.crlURL), ("ocspURL", certificate.ocspURL), ("issuersURL", certificate.issuersURL),
        ] {
            if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw CeremonyError("certificate.\(field): an http or https URL")
            }
        }
    }

    /// The most a ceremony CRL may run before its next update.
    public static let maxCRLNextUpdateDays = 400

    /// A crl ceremony: the issuer's certificate, and each entry's certificate (it must be the
    /// issuer's), serial and reason, checked before any HSM call.
    private func validateCRL() throws(CeremonyError) {
        guard key == nil, subjectKey == nil, certificate == nil else {
            throw CeremonyError("key, subjectKey, certificate: a crl ceremony has none")
        }
        guard let issuer else { throw CeremonyError("issuer: a crl ceremony needs the issuer's label and certificate") }
        guard let crl else { throw CeremonyError("crl: a crl ceremony needs this section") }
        guard outputs.crl != nil, outputs.certificate == nil, outputs.publicKey == nil else {
            throw CeremonyError("outputs: a crl ceremony writes crl and transcript")
        }
        guard crl.number >= 1 else { throw CeremonyError("crl.number: 1 or more") }
        guard (1...Self.maxCRLNextUpdateDays).contains(crl.nextUpdateDays) else {
            throw CeremonyError("crl.nextUpdateDays: 1 to \(Self.maxCRLNextUpdateDays)")
        }
        let issuerCertificate = try Self.readCertificate(issuer.certificate, field: "issuer.certificate")
        _ = try crlEntries(issuer: issuerCertificate)
    }

    /// The CRL's entries: serials (from the certificates, which must be the issuer's) and reasons.
    func crlEntries(issuer: Certificate) throws(CeremonyError) -> [(serial: [UInt8], reason: CRLReason)] {
        var entries: [(serial: [UInt8], reason: CRLReason)] = []
        for (index, entry) in (crl?.revoked ?? []).enumerated() {
            let field = "crl.revoked[\(index)]"
            guard let reason = CRLReason(name: entry.reason), reason != .removeFromCRL else {
                throw CeremonyError("\(field).reason: \"\(entry.reason)\" is not an RFC 5280 reason for a full CRL")
            }
            switch (entry.certificate, entry.serial) {
            case (let path?, nil):
                let revoked = try Self.readCertificate(path, field: "\(field).certificate")
                guard revoked.issuer == issuer.subject else {
                    throw CeremonyError("\(field).certificate: \(path) was not issued by the issuer")
                }
                entries.append((Array(revoked.serialNumber.bytes), reason))
            case (nil, let hexSerial?):
                guard let serial = Hex.decode(hexSerial), (1...20).contains(serial.count) else {
                    throw CeremonyError("\(field).serial: 1 to 20 bytes in hex")
                }
                entries.append((serial, reason))
            default:
                throw CeremonyError("\(field): give exactly one of certificate, serial")
            }
        }
        return entries
    }

    /// A PEM certificate from a file named in the ceremony.
    static func readCertificate(_ path: String, field: String) throws(CeremonyError) -> Certificate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CeremonyError("\(field): cannot read \(path)")
        }
        do { return try Certificate(pemEncoded: String(decoding: data, as: UTF8.self)) } catch {
            throw CeremonyError("\(field): \(path) is not a PEM certificate")
        }
    }

    /// The key an intermediate certifies: from a CSR whose signature verifies, or a PEM public key.
    static func subjectPublicKey(_ section: SubjectKeySection?) throws(CeremonyError) -> Certificate.PublicKey {
        switch (section?.csr, section?.publicKey) {
        case (let path?, nil):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CeremonyError("subjectKey.csr: cannot read \(path)")
            }
            let request: CertificateSigningRequest
            do { request = try CertificateSigningRequest(pemEncoded: String(decoding: data, as: UTF8.self)) } catch {
                throw CeremonyError("subjectKey.csr: \(path) is not a PEM CSR")
            }
            guard request.publicKey.isValidSignature(request.signature, for: request) else {
                throw CeremonyError("subjectKey.csr: the CSR's signature does not verify (no proof of possession)")
            }
            return request.publicKey
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CeremonyError("subjectKey.publicKey: cannot read \(path)")
            }
            do { return try Certificate.PublicKey(pemEncoded: String(decoding: data, as: UTF8.self)) } catch {
                throw CeremonyError("subjectKey.publicKey: \(path) is not a PEM public key")
            }
        case (nil, nil) where section?.certificate != nil:
            return try readCertificate(section?.certificate ?? "", field: "subjectKey.certificate").publicKey
        default:
            throw CeremonyError(
                "subjectKey: give exactly one of csr, publicKey (or, for a cross-certificate, certificate)"
            )
        }
    }

    /// The certificate's policies, parsed.
    var policyOIDs: [ASN1ObjectIdentifier] {
        get throws(CeremonyError) {
            var oids: [ASN1ObjectIdentifier] = []
            for text in certificate?.policies ?? [] {
                let arcs = text.split(separator: ".").map { UInt($0) }
                guard arcs.count >= 2, arcs.allSatisfy({ $0 != nil }) else {
                    throw CeremonyError("certificate.policies: \"\(text)\" is not a dotted OID")
                }
                do { oids.append(try ASN1ObjectIdentifier(elements: arcs.compactMap { $0 })) } catch {
                    throw CeremonyError("certificate.policies: \"\(text)\" is not a valid OID")
                }
            }
            return oids
        }
    }

    static let extendedKeyUsageNames: [String: ExtendedKeyUsage.Usage] = [
        "serverAuth": .serverAuth, "clientAuth": .clientAuth, "codeSigning": .codeSigning,
        "emailProtection": .emailProtection, "timeStamping": .timeStamping, "ocspSigning": .ocspSigning,
    ]

    /// The EKUs a sub-CA is limited to, parsed.
    var extendedKeyUsages: [ExtendedKeyUsage.Usage] {
        get throws(CeremonyError) {
            try (certificate?.extendedKeyUsages ?? []).map { (name: String) throws(CeremonyError) in
                guard let usage = Self.extendedKeyUsageNames[name] else {
                    throw CeremonyError(
                        "certificate.extendedKeyUsages: \"\(name)\" is not one of "
                            + Self.extendedKeyUsageNames.keys.sorted().joined(separator: ", ")
                    )
                }
                return usage
            }
        }
    }

    /// The outputs by field name.
    var outputPaths: [(String, String)] {
        [
            ("publicKey", outputs.publicKey), ("certificate", outputs.certificate), ("csr", outputs.csr),
            ("crl", outputs.crl),
            ("transcript", outputs.transcript),
        ]
        .compactMap { field, path in path.map { (field, $0) } }
    }

    private mutating func resolvePaths(relativeTo base: String) {
        func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : base + "/" + path }
        hsm.pinShares = hsm.pinShares?.map(resolve)
        hsm.pinFile = hsm.pinFile.map(resolve)
        if var section = issuer {
            section.certificate = resolve(section.certificate)
            issuer = section
        }
        if var section = subjectKey {
            section.csr = section.csr.map(resolve)
            section.publicKey = section.publicKey.map(resolve)
            section.certificate = section.certificate.map(resolve)
            subjectKey = section
        }
        outputs.publicKey = outputs.publicKey.map(resolve)
        outputs.certificate = outputs.certificate.map(resolve)
        outputs.csr = outputs.csr.map(resolve)
        outputs.crl = outputs.crl.map(resolve)
        if var section = crl {
            for index in section.revoked.indices {
                section.revoked[index].certificate = section.revoked[index].certificate.map(resolve)
            }
            crl = section
        }
        outputs.transcript = resolve(outputs.transcript)
    }
}
