import Codecs
public import Foundation
public import MetadataStore
public import PKCS11
import SwiftASN1
import X509

/// Code signing: a detached CMS SignedData over an artifact's digest, signed in the HSM with a key
/// that holds a code-signing certificate, optionally with an RFC 3161 timestamp. Each signature is
/// audited (key, digest, certificate serial, timestamp).
public final class CodeSigner: Sendable {
    /// Whether a signature carries a timestamp.
    public enum TimestampPolicy: String, Sendable, CaseIterable {
        /// No timestamp.
        case none
        /// A timestamp if a TSA answers; without one otherwise.
        case preferred
        /// A timestamp or no signature.
        case required
    }

    /// What to sign with: the key, its signing certificate chain and the scheme.
    public struct Plan: Sendable {
        public let key: SigningKey
        public let scheme: SignatureScheme
        /// The hash the artifact's digest must be made with.
        public var digestAlgorithm: HashAlgorithm { CMSSignedData.digestAlgorithm(for: scheme) }
    }

    /// A finished signature.
    public struct Result: Sendable {
        /// `ContentInfo` with the detached SignedData, DER.
        public var cms: [UInt8]
        public var timestamped: Bool
    }

    private let signing: SigningService
    private let store: any MetadataBackend
    private let timestamps: TimestampClient?
    /// The policy when a request names none.
    public let defaultPolicy: TimestampPolicy

    public init(
        signing: SigningService,
        store: any MetadataBackend,
        timestamps: TimestampClient? = nil,
        defaultPolicy: TimestampPolicy = .none
    ) {
        self.signing = signing
        self.store = store
        self.timestamps = timestamps
        self.defaultPolicy = defaultPolicy
    }

    /// Checks that `name` may sign code now and picks the scheme. `parameters.hash` is the digest
    /// algorithm (Ed25519 keys use SHA-512, RFC 8419); `scheme` and `saltLength` choose RSA-PSS.
    public func plan(_ name: String, parameters: SignatureParameters, now: Date = Date()) async throws(SigningError)
        -> Plan
    {
        let key = try await signing.usableKey(name)
        try Self.checkCodeSigningCertificate(key, now: now)
        var parameters = parameters
        parameters.encoding = nil
        if key.algorithm == .ed25519 {
            if let hash = parameters.hash, hash != HashAlgorithm.sha512.rawValue {
                throw SigningError(.unsupportedScheme, "Ed25519 code signatures use sha512 digests (RFC 8419)")
            }
            parameters.hash = nil
        }
        let (scheme, _) = try parameters.resolve(for: key.algorithm)
        return Plan(key: key, scheme: scheme)
    }

    /// Signs `digest` (of the artifact, made with `plan.digestAlgorithm`).
    public func sign(
        _ plan: Plan,
        digest: [UInt8],
        timestamp: TimestampPolicy? = nil,
        requester: Requester,
        now: Date = Date()
    ) async throws(SigningError) -> Result {
        guard digest.count == plan.digestAlgorithm.byteCount else {
            throw SigningError(
                .invalidDigest,
                "a \(plan.digestAlgorithm.rawValue) digest has \(plan.digestAlgorithm.byteCount) bytes, got \(digest.count)"
            )
        }
        let policy = timestamp ?? defaultPolicy
        if policy == .required, timestamps == nil {
            throw SigningError(.timestampUnavailable, "a timestamp is required but no TSA is configured")
        }
        let content = CMSSignedData(
            scheme: plan.scheme,
            messageDigest: digest,
            signingTime: now,
            chain: plan.key.certificateChain
        )
        let signature: [UInt8]
        var unsigned: [[UInt8]] = []
        do {
            let attributes = try content.signedAttributes()
            let parameters = SignatureParameters(
                scheme: plan.scheme.name,
                hash: plan.scheme.hash?.rawValue,
                saltLength: { if case .rsaPSS(_, let salt) = plan.scheme { salt } else { nil } }()
            )
            signature = try await signing.sign(
                plan.key.name,
                [SigningService.SignItem(input: .message(attributes), parameters: parameters)]
            )[0].get().bytes
            if policy != .none, let timestamps {
                // RFC 3161 appendix A: the token covers the signature value.
                let hash = plan.digestAlgorithm
                do {
                    let token = try await timestamps.token(digest: hash.digest(signature), hash: hash)
                    unsigned.append(try CMSSignedData.attribute(ObjectIdentifiers.timeStampToken, value: token))
                } catch  where policy == .preferred {
                    // Preferred: sign without; the audit entry says so.
                }
            }
            let cms = try content.contentInfo(signature: signature, unsignedAttributes: unsigned)
            try await audit(plan, digest: digest, timestamped: !unsigned.isEmpty, requester: requester)
            return Result(cms: cms, timestamped: !unsigned.isEmpty)
        } catch {
            throw SigningError.from(error)
        }
    }

    /// The key's leaf certificate must be valid now, allow digital signatures and name codeSigning.
    static func checkCodeSigningCertificate(_ key: SigningKey, now: Date) throws(SigningError) {
        guard let leaf = key.certificateChain.first else {
            throw SigningError(
                .noCertificate,
                "key \"\(key.name)\" has no certificate; attach a code-signing certificate with PUT /v1/keys/\(key.name)/certificate"
            )
        }
        let usages: ExtendedKeyUsage?
        let keyUsage: KeyUsage?
        do {
            usages = try leaf.extensions.extendedKeyUsage
            keyUsage = try leaf.extensions.keyUsage
        } catch {
            throw SigningError(.invalidCertificate, "the certificate of \"\(key.name)\" has a malformed extension")
        }
        guard let usages, usages.contains(.codeSigning) else {
            throw SigningError(
                .noCertificate,
                "the certificate of \"\(key.name)\" is not for code signing (its extended key usage lacks codeSigning)"
            )
        }
        if let keyUsage, !keyUsage.digitalSignature {
            throw SigningError(
                .noCertificate,
                "the certificate of \"\(key.name)\" does not allow digital signatures (key usage)"
            )
        }
        guard now >= leaf.notValidBefore, now <= leaf.notValidAfter else {
            let window = "\(leaf.notValidBefore.ISO8601Format()) to \(leaf.notValidAfter.ISO8601Format())"
            throw SigningError(.noCertificate, "the certificate of \"\(key.name)\" is valid \(window), not now")
        }
    }

    private func audit(_ plan: Plan, digest: [UInt8], timestamped: Bool, requester: Requester)
        async throws
    {
        let serial = plan.key.certificateChain.first.map { "\($0.serialNumber)" } ?? "-"
        let hex = Hex.encode(digest)
        let event = AuditEvent(
            actor: requester.actor,
            action: "codesign",
            object: "key/\(plan.key.name)",
            outcome: "success: \(plan.digestAlgorithm.rawValue) \(hex), certificate \(serial), "
                + (timestamped ? "timestamped" : "no timestamp"),
            requestID: requester.requestID
        )
        _ = try await store.write { txn in try txn.appendAudit(event) }
    }
}
