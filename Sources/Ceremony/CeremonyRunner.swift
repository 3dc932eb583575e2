// Over 400 lines: a ceremony's steps in the order the officers follow them, each checked before the next.
import CA
import Codecs
import Crypto
import CustosX509
public import Foundation
import HSM
import Logging
import PKCS11
import Signing
import SwiftASN1
import X509
import _CryptoExtras

/// Runs a validated ceremony against the token: log in with the PIN the quorum reconstructed, refuse
/// a label or ID that exists, generate the key, read it back and check it, build and lint the root
/// certificate, sign it in the HSM, verify the signature and that the signed TBS is the linted one,
/// write every output exclusively, and sign the transcript with the audit key.
public struct CeremonyRunner {
    public let config: CeremonyConfig
    /// A directory whose profiles override the built-in ones; nil for the built-in ones only.
    public let profilesDirectory: String?
    /// Progress lines for the officers.
    public let say: @Sendable (String) -> Void

    public init(config: CeremonyConfig, profilesDirectory: String?, say: @escaping @Sendable (String) -> Void) {
        self.config = config
        self.profilesDirectory = profilesDirectory
        self.say = say
    }

    /// Runs the ceremony with `pin` (wiped by the caller afterwards). Returns the transcript written.
    public func run(pin: [UInt8]) async throws(CeremonyError) -> Transcript {
        var transcript = Transcript(
            type: config.type.rawValue,
            configSHA256: Hex.encode(config.sha256),
            officers: config.officers
        )
        transcript.record(
            "config",
            "validated: \(config.type.rawValue) ceremony, key \(config.key?.label ?? config.issuer?.label ?? "")"
        )
        let pool: SessionPool
        do {
            let profile = try HSMProfile.load(named: config.hsm.profile, directory: profilesDirectory)
            guard let module = config.hsm.module ?? profile.installedModulePath else {
                throw CeremonyError("hsm.profile: no module of \(profile.name) is installed")
            }
            pool = try await SessionPool.start(
                SessionPoolConfiguration(
                    modulePath: module,
                    token: .label(config.hsm.token),
                    pin: String(decoding: pin, as: UTF8.self),
                    userType: profile.login.pkcs11UserType ?? .user,
                    sessions: 1,
                    waitTimeout: .seconds(60),
                    keepaliveInterval: nil
                ),
                logger: Logger(label: "custos.ceremony")
            )
        } catch let error as CeremonyError {
            throw error
        } catch {
            throw CeremonyError("hsm: cannot log in to token \(config.hsm.token): \(error)")
        }
        defer { pool.shutdown() }
        let info = pool.tokenInfo
        transcript.token = Transcript.Token(
            label: info.label,
            serial: info.serialNumber,
            manufacturer: info.manufacturer,
            model: info.model
        )
        transcript.record("login", "token \(info.label), serial \(info.serialNumber)")
        say("logged in to token \(info.label) (serial \(info.serialNumber))")
        let keyStore = KeyStore(pool: pool)
        do {
            if config.type == .crl {
                try await signCRL(keyStore: keyStore, transcript: &transcript)
            } else if config.type.signsWithIssuer {
                try await signIntermediate(keyStore: keyStore, transcript: &transcript)
            } else {
                try await generateKey(keyStore: keyStore, transcript: &transcript)
            }
            try await signAndWrite(&transcript, keyStore: keyStore)
            return transcript
        } catch {
            let failure = error as? CeremonyError ?? CeremonyError("\(error)")
            say("FAILED: \(failure)")
            throw failure
        }
    }

    /// A key or root ceremony: generate, check, publish the public key, and for a root sign its certificate.
    private func generateKey(keyStore: KeyStore, transcript: inout Transcript) async throws {
        guard let keySection = config.key else { throw CeremonyError("key: missing") }
        let algorithm = try config.algorithm
        let id = try await checkedNewID(keyStore: keyStore)
        let reference = try await keyStore.generate(algorithm, label: keySection.label, id: id)
        transcript.record("generate", "\(algorithm.rawValue) key \(keySection.label), id \(Hex.encode(id))")
        say("generated \(algorithm.rawValue) key \(keySection.label) (id \(Hex.encode(id)))")
        let publicKey = try await checkGenerated(reference, algorithm: algorithm, keyStore: keyStore)
        transcript.record(
            "check-key",
            "public key \(algorithm.rawValue) read back; private key sensitive, never extractable, sign only"
        )
        let keyRecord = Transcript.KeyRecord(
            label: reference.label,
            id: Hex.encode(reference.id),
            algorithm: algorithm.rawValue,
            publicKey: PEM.encode(publicKey.derRepresentation, label: "PUBLIC KEY") + "\n",
            spkiSHA256: Hex.encode(sha256(publicKey.derRepresentation))
        )
        transcript.keys.append(keyRecord)
        if let path = config.outputs.publicKey {
            transcript.outputs.append(try write(Array(keyRecord.publicKey.utf8), to: path, field: "publicKey"))
        }
        if config.type == .root, let section = config.certificate, let path = config.outputs.certificate {
            let certificate = try await signRoot(
                section,
                key: try HSMPrivateKey(
                    reference: reference,
                    algorithm: algorithm,
                    publicKey: publicKey,
                    keyStore: keyStore
                ),
                keyStore: keyStore,
                transcript: &transcript
            )
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            let pem = PEM.encode(serializer.serializedBytes, label: "CERTIFICATE") + "\n"
            transcript.outputs.append(try write(Array(pem.utf8), to: path, field: "certificate"))
            say("root certificate written to \(path)")
        }
        if config.type == .csr, let request = config.request, let path = config.outputs.csr {
            let signer = try HSMPrivateKey(
                reference: reference,
                algorithm: algorithm,
                publicKey: publicKey,
                keyStore: keyStore
            )
            let requested = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: request.pathLength))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: signer.publicKey)
            }
            let csr = try await CertificateSigningRequest(
                version: .v1,
                subject: try DistinguishedNameText.parse(request.subject),
                asyncPrivateKey: .init(signer),
                attributes: CertificateSigningRequest.Attributes([try .init(ExtensionRequest(extensions: requested))]),
                signatureAlgorithm: signer.defaultSignatureAlgorithm
            )
            guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
                throw CeremonyError("check: the CSR's signature does not verify; not written")
            }
            transcript.record("csr", "CSR for \(request.subject) signed in the HSM; signature verified")
            var serializer = DER.Serializer()
            try serializer.serialize(csr)
            let pem = PEM.encode(serializer.serializedBytes, label: "CERTIFICATE REQUEST") + "\n"
            transcript.outputs.append(try write(Array(pem.utf8), to: path, field: "csr"))
            say("CSR written to \(path)")
        }
    }

    /// The key's `CKA_ID` (given, or 16 bytes from the HSM's RNG), after checking that neither the
    /// label nor the ID is on the token already.
    private func checkedNewID(keyStore: KeyStore) async throws -> [UInt8] {
        let requested = try config.keyID
        let label = config.key?.label ?? ""
        return try await keyStore.pool.withSession { context in
            let session = context.session
            guard try session.findObjects([.label(label)], limit: 1).isEmpty else {
                throw CeremonyError("key.label: an object labelled \(label) exists on the token; refusing to generate")
            }
            if let requested {
                guard try session.findObjects([.id(requested)], limit: 1).isEmpty else {
                    throw CeremonyError("key.id: an object with id \(Hex.encode(requested)) exists on the token")
                }
                return requested
            }
            return try session.generateRandom(16)
        }
    }

    /// Reads the new key back: the public key's algorithm, size or curve, and the private key's
    /// protection and usages.
    private func checkGenerated(_ reference: KeyReference, algorithm: KeyAlgorithm, keyStore: KeyStore) async throws
        -> PKCS11.PublicKey
    {
        let publicKey = try await keyStore.publicKey(reference)
        guard publicKey.algorithm == algorithm else {
            throw CeremonyError(
                "check: the token made a \(publicKey.algorithm.rawValue) key, not \(algorithm.rawValue)"
            )
        }
        let problems: [String] = try await keyStore.pool.withSession { context in
            let session = context.session
            let found = try session.findObjects(
                [.objectClass(.privateKey), .label(reference.label), .id(reference.id)],
                limit: 2
            )
            guard found.count == 1 else { return ["\(found.count) private keys carry the label and id"] }
            var problems: [String] = []
            let expected: [(AttributeType, Bool, String)] = [
                (.sensitive, true, "sensitive"), (.extractable, false, "extractable"), (.sign, true, "sign"),
                (.decrypt, false, "decrypt"), (.unwrap, false, "unwrap"), (.derive, false, "derive"),
                (.alwaysSensitive, true, "always sensitive"), (.neverExtractable, true, "never extractable"),
            ]
            for (attribute, value, name) in expected where try session.boolAttribute(attribute, of: found[0]) != value {
                problems.append("\(name) is \(!value)")
            }
            return problems
        }
        guard problems.isEmpty else {
            throw CeremonyError("check: the private key is not as asked: " + problems.joined(separator: ", "))
        }
        return publicKey
    }

    /// The root certificate: self-signed with the new key.
    private func signRoot(
        _ section: CeremonyConfig.CertificateSection,
        key: HSMPrivateKey,
        keyStore: KeyStore,
        transcript: inout Transcript
    ) async throws -> Certificate {
        let subject = try DistinguishedNameText.parse(section.subject ?? "")
        var extensions = Certificate.Extensions()
        try extensions.append(
            Certificate.Extension(
                BasicConstraints.isCertificateAuthority(maxPathLength: section.pathLength),
                critical: true
            )
        )
        try extensions.append(
            Certificate.Extension(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true), critical: true)
        )
        try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false))
        let policies = try config.policyOIDs
        if !policies.isEmpty { try extensions.append(try CertificatePolicies(policies).makeCertificateExtension()) }
        return try await signChecked(
            subject: subject,
            issuer: subject,
            publicKey: key.publicKey,
            days: section.validityDays,
            extensions: extensions,
            signer: key,
            keyStore: keyStore,
            transcript: &transcript
        ) { CertificateLint.root($0, maxValidityDays: CeremonyConfig.maxRootValidityDays) }
    }

    /// A CRL signed with the issuer's key (a root revoking an intermediate): built with the CA's CRL
    /// encoder, the issuer name exactly as in the issuer's certificate, signed in the HSM over exactly
    /// the TBS built, and verified with the issuer certificate's key before it is written.
    private func signCRL(keyStore: KeyStore, transcript: inout Transcript) async throws {
        guard let issuerSection = config.issuer, let section = config.crl, let path = config.outputs.crl else {
            throw CeremonyError("crl: issuer, crl and outputs.crl are needed")
        }
        let issuerCertificate = try CeremonyConfig.readCertificate(
            issuerSection.certificate,
            field: "issuer.certificate"
        )
        let entries = try config.crlEntries(issuer: issuerCertificate)
        let signer = try await issuerKey(
            issuerSection,
            certificate: issuerCertificate,
            keyStore: keyStore,
            transcript: &transcript
        )
        var issuerName = DER.Serializer()
        try issuerName.serialize(issuerCertificate.subject)
        let keyIdentifier =
            (try? issuerCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: issuerCertificate.publicKey).keyIdentifier
        let now = Int64(Date().timeIntervalSince1970)
        let list = CertificateRevocationList(
            issuerName: issuerName.serializedBytes,
            thisUpdate: now,
            nextUpdate: now + Int64(section.nextUpdateDays) * 86_400,
            entries: entries.map { RevokedCertificate(serial: $0.serial, revocationDate: now, reason: $0.reason) },
            number: section.number,
            authorityKeyIdentifier: Array(keyIdentifier)
        )
        let algorithm = signer.defaultSignatureAlgorithm
        let tbs = try list.tbsBytes(algorithm)
        let signature = try await signer.signatureValue(tbs, signatureAlgorithm: algorithm)
        guard issuerCertificate.publicKey.isValidSignature(signature, for: tbs, signatureAlgorithm: algorithm) else {
            throw CeremonyError("check: the HSM's CRL signature does not verify with the issuer's key; not written")
        }
        let der = try CertificateRevocationList.assemble(tbs: tbs, algorithm: algorithm, signature: signature)
        transcript.record(
            "crl",
            "CRL number \(section.number), \(entries.count) entries ("
                + entries.map { "\(Hex.encode($0.serial)) \($0.reason)" }.joined(separator: ", ")
                + "), next update in \(section.nextUpdateDays) days; signed in the HSM; signature verified"
        )
        transcript.outputs.append(try write(der, to: path, field: "crl"))
        say("CRL \(section.number) written to \(path)")
    }

    /// The issuer's key on the token, checked against the issuer's certificate and recorded.
    private func issuerKey(
        _ issuerSection: CeremonyConfig.IssuerSection,
        certificate issuerCertificate: Certificate,
        keyStore: KeyStore,
        transcript: inout Transcript
    ) async throws -> HSMPrivateKey {
        guard let reference = try await keyStore.find(label: issuerSection.label) else {
            throw CeremonyError("issuer.label: no private key labelled \(issuerSection.label) on the token")
        }
        let issuerPublicKey = try await keyStore.publicKey(reference)
        let signer = try HSMPrivateKey(
            reference: reference,
            algorithm: issuerPublicKey.algorithm,
            publicKey: issuerPublicKey,
            keyStore: keyStore
        )
        guard signer.publicKey == issuerCertificate.publicKey else {
            throw CeremonyError("issuer: the key \(issuerSection.label) is not the key of \(issuerSection.certificate)")
        }
        transcript.keys.append(
            Transcript.KeyRecord(
                label: reference.label,
                id: Hex.encode(reference.id),
                algorithm: issuerPublicKey.algorithm.rawValue,
                publicKey: PEM.encode(issuerPublicKey.derRepresentation, label: "PUBLIC KEY") + "\n",
                spkiSHA256: Hex.encode(sha256(issuerPublicKey.derRepresentation))
            )
        )
        return signer
    }

    /// An intermediate: a sub-CA certificate for the CSR's (or given) public key, signed with the
    /// issuer's key on the token after checking that key against the issuer's certificate.
    private func signIntermediate(keyStore: KeyStore, transcript: inout Transcript) async throws {
        guard let issuerSection = config.issuer, let section = config.certificate,
            let path = config.outputs.certificate
        else { throw CeremonyError("intermediate: issuer, certificate and outputs.certificate are needed") }
        let issuerCertificate = try CeremonyConfig.readCertificate(
            issuerSection.certificate,
            field: "issuer.certificate"
        )
        let subjectKey = try CeremonyConfig.subjectPublicKey(config.subjectKey)
        let signer = try await issuerKey(
            issuerSection,
            certificate: issuerCertificate,
            keyStore: keyStore,
            transcript: &transcript
        )
        var spki = DER.Serializer()
        try spki.serialize(subjectKey)
        let subjectSPKI = spki.serializedBytes
        transcript.record(
            "issuer",
            "key \(issuerSection.label) matches the issuer certificate; subject key \(Hex.encode(sha256(subjectSPKI)))"
                + (config.subjectKey?.csr != nil ? " from a CSR whose signature verifies" : "")
        )
        // A cross-certificate keeps the other CA's name and key identifier; an OCSP signer is an end
        // entity with id-kp-OCSPSigning and id-pkix-ocsp-nocheck (RFC 6960 section 4.2.2.2).
        let other = try config.subjectKey?.certificate.map {
            try CeremonyConfig.readCertificate($0, field: "subjectKey.certificate")
        }
        let subjectName = try other?.subject ?? DistinguishedNameText.parse(section.subject ?? "")
        var extensions = Certificate.Extensions()
        if config.type == .ocspSigner {
            try extensions.append(Certificate.Extension(KeyUsage(digitalSignature: true), critical: true))
            try extensions.append(
                Certificate.Extension(try ExtendedKeyUsage([.ocspSigning]), critical: false)
            )
            try extensions.append(try OCSPNoCheck().makeCertificateExtension())
        } else {
            try extensions.append(
                Certificate.Extension(
                    BasicConstraints.isCertificateAuthority(maxPathLength: section.pathLength),
                    critical: true
                )
            )
            try extensions.append(
                Certificate.Extension(
                    KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true),
                    critical: true
                )
            )
        }
        if let otherKeyID = (try? other?.extensions.subjectKeyIdentifier)?.keyIdentifier {
            try extensions.append(
                Certificate.Extension(SubjectKeyIdentifier(keyIdentifier: otherKeyID), critical: false)
            )
        } else {
            try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: subjectKey), critical: false))
        }
        let issuerKeyID =
            (try? issuerCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: issuerCertificate.publicKey).keyIdentifier
        try extensions.append(
            Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: issuerKeyID), critical: false)
        )
        let policies = try config.policyOIDs
        if !policies.isEmpty { try extensions.append(try CertificatePolicies(policies).makeCertificateExtension()) }
        let usages = try config.extendedKeyUsages
        if !usages.isEmpty, config.type != .ocspSigner {
            try extensions.append(Certificate.Extension(try ExtendedKeyUsage(usages), critical: false))
        }
        if let crlURL = section.crlURL {
            try extensions.append(try CRLDistributionPoints(urls: [crlURL]).makeCertificateExtension())
        }
        let access =
            (section.ocspURL.map {
                [
                    AuthorityInformationAccess.AccessDescription(
                        method: .ocspServer,
                        location: .uniformResourceIdentifier($0)
                    )
                ]
            } ?? [])
            + (section.issuersURL.map {
                [
                    AuthorityInformationAccess.AccessDescription(
                        method: .issuingCA,
                        location: .uniformResourceIdentifier($0)
                    )
                ]
            } ?? [])
        if !access.isEmpty {
            try extensions.append(Certificate.Extension(AuthorityInformationAccess(access), critical: false))
        }
        let certificate = try await signChecked(
            subject: subjectName,
            issuer: issuerCertificate.subject,
            publicKey: subjectKey,
            days: section.validityDays,
            extensions: extensions,
            signer: signer,
            keyStore: keyStore,
            transcript: &transcript
        ) {
            config.type == .ocspSigner
                ? CertificateLint.ocspSigner($0, issuer: issuerCertificate, maxValidityDays: config.maxValidityDays)
                : CertificateLint.subordinate($0, issuer: issuerCertificate, maxValidityDays: config.maxValidityDays)
        }
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let pem = PEM.encode(serializer.serializedBytes, label: "CERTIFICATE") + "\n"
        transcript.outputs.append(try write(Array(pem.utf8), to: path, field: "certificate"))
        say("\(config.type.rawValue) certificate written to \(path)")
    }

    /// Builds a CA certificate, lints a candidate signed by a throwaway software key of the same kind,
    /// signs the same TBS in the HSM, and checks that the TBS is byte-identical to the linted one and
    /// that the HSM's signature verifies with the signer's public key.
    private func signChecked(
        subject: DistinguishedName,
        issuer: DistinguishedName,
        publicKey: Certificate.PublicKey,
        days: Int,
        extensions: Certificate.Extensions,
        signer: HSMPrivateKey,
        keyStore: KeyStore,
        transcript: inout Transcript,
        lint: (Certificate) -> [String]
    ) async throws -> Certificate {
        var serial = try await keyStore.random(16)
        serial[0] = (serial[0] & 0x7F) | 0x40  // positive, 16 bytes, never a leading zero
        // Whole seconds: X.509 times have no fractions, and a rounded-up time is not yet valid.
        let notBefore = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let notAfter = notBefore.addingTimeInterval(Double(days) * 86_400)
        let candidate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(bytes: serial[...]),
            publicKey: publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: issuer,
            subject: subject,
            signatureAlgorithm: signer.defaultSignatureAlgorithm,
            extensions: extensions,
            issuerPrivateKey: try Self.throwawayKey(like: signer.algorithm)
        )
        let problems = lint(candidate)
        guard problems.isEmpty else {
            throw CeremonyError("lint: " + problems.joined(separator: "; ") + "; nothing was signed")
        }
        transcript.record("lint", "certificate \(Hex.encode(serial)): RFC 5280 profile and ceremony limits pass")
        let signed = try await Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(bytes: serial[...]),
            publicKey: publicKey,
            notValidBefore: notBefore,
            notValidAfter: notAfter,
            issuer: issuer,
            subject: subject,
            signatureAlgorithm: signer.defaultSignatureAlgorithm,
            extensions: extensions,
            issuerAsyncPrivateKey: .init(signer)
        )
        guard signed.tbsCertificateBytes == candidate.tbsCertificateBytes else {
            throw CeremonyError("check: the TBS signed in the HSM differs from the linted one; not written")
        }
        guard signer.publicKey.isValidSignature(signed.signature, for: signed) else {
            throw CeremonyError("check: the HSM's signature does not verify with the signer's public key; not written")
        }
        transcript.record("sign", "signed in the HSM; signature verified; TBS identical to the linted one")
        return signed
    }

    static func throwawayKey(like algorithm: KeyAlgorithm) throws -> Certificate.PrivateKey {
        switch algorithm {
        case .ecP256: Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .ecP384: Certificate.PrivateKey(P384.Signing.PrivateKey())
        case .ecP521: Certificate.PrivateKey(P521.Signing.PrivateKey())
        case .ed25519: Certificate.PrivateKey(Curve25519.Signing.PrivateKey())
        case .rsa2048, .rsa3072, .rsa4096:
            Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }

    /// Writes `bytes` to a new file (never over an existing one) and describes it for the transcript.
    private func write(_ bytes: [UInt8], to path: String, field: String) throws -> Transcript.Output {
        try ExclusiveFile.write(bytes, to: path)
        return Transcript.Output(
            field: field,
            file: URL(fileURLWithPath: path).lastPathComponent,
            sha256: Hex.encode(sha256(bytes))
        )
    }

    /// Signs the transcript with the audit key (found by label, generated on first use) and writes it.
    private func signAndWrite(_ transcript: inout Transcript, keyStore: KeyStore) async throws {
        let label = config.hsm.auditKey ?? "custos-ceremony-audit"
        let (reference, generated) = try await keyStore.findOrGenerate(label: label, .ecP256)
        let publicKey = try await keyStore.publicKey(reference)
        transcript.record("audit-key", generated ? "generated \(label) (ec-p256)" : "using \(label)")
        transcript.auditKey = Transcript.KeyRecord(
            label: label,
            id: Hex.encode(reference.id),
            algorithm: "ec-p256",
            publicKey: PEM.encode(publicKey.derRepresentation, label: "PUBLIC KEY") + "\n",
            spkiSHA256: Hex.encode(sha256(publicKey.derRepresentation))
        )
        transcript.record("transcript", "signed with \(label)")
        let signature = try await keyStore.sign(
            reference,
            scheme: .ecdsa(.sha256),
            input: .message(try transcript.signedBytes())
        )
        let signed = SignedTranscript(
            transcript: transcript,
            signatureAlgorithm: "ecdsa-with-SHA256",
            signature: Data(signature).base64EncodedString()
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try ExclusiveFile.write(Array(try encoder.encode(signed)), to: config.outputs.transcript)
        say(
            "transcript written to \(config.outputs.transcript), signed by audit key "
                + (transcript.auditKey?.spkiSHA256 ?? "")
        )
    }
}

/// Outputs that must not replace anything (ceremony outputs, PIN shares, secrets the CLI writes):
/// created exclusively, written and synced; an existing file is an error.
public enum ExclusiveFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(CeremonyError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else {
            throw CeremonyError(
                "cannot create \(path): \(String(cString: strerror(errno))) (an existing file is never overwritten)"
            )
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw CeremonyError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
