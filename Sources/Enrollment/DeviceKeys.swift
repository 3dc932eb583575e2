public import CA
import Codecs
import Crypto
import CustosX509
import Foundation
public import HSM
public import MetadataStore
public import PKCS11
import X509
import _CryptoExtras

/// Keys for devices that cannot make their own: generated in the HSM, certified, and handed out only
/// encrypted: as a PKCS#12 file under a password the caller chooses, or wrapped to an RSA key the
/// caller names.
///
/// The private key never exists in plaintext outside the token: it is made as a session object,
/// wrapped inside the token (`C_WrapKey`) and destroyed before the session is given back.
///
/// - PKCS#12: wrapped with AES-256-CBC under a key derived from the password with
///   PBKDF2-HMAC-SHA-256; the wrapped bytes are exactly the encrypted content of a PBES2
///   `EncryptedPrivateKeyInfo`, so the file is assembled around them. The derived key (a function of the
///   caller's own secret) is in Custos' memory only until the token has it as an object. Needs a token
///   that wraps private keys with `CKM_AES_CBC_PAD` (SoftHSM 2.6 does not: a clear error says so).
/// - RSA: an AES-256 key made in the token for this one use wraps the private key (RFC 5649), and is
///   itself wrapped with RSA-OAEP under the caller's public key (the `CKM_RSA_AES_KEY_WRAP` layout).
extension EnrollmentService {
    /// What a generated device key is to be.
    public struct DeviceKeyRequest: Sendable {
        public var ca: String
        public var category: CertificateCategory
        /// RFC 4514 text.
        public var subject: String
        /// `dns:…`, `ip:…`, `email:…`, `uri:…`.
        public var alternativeNames: [String]
        public var algorithm: KeyAlgorithm
        public var validityDays: Int?
        public var metadata: [String: String]
        public var delivery: Delivery

        public init(
            ca: String,
            category: CertificateCategory,
            subject: String,
            alternativeNames: [String] = [],
            algorithm: KeyAlgorithm = .ecP256,
            validityDays: Int? = nil,
            metadata: [String: String] = [:],
            delivery: Delivery
        ) {
            self.ca = ca
            self.category = category
            self.subject = subject
            self.alternativeNames = alternativeNames
            self.algorithm = algorithm
            self.validityDays = validityDays
            self.metadata = metadata
            self.delivery = delivery
        }
    }

    /// How the key is handed out.
    public enum Delivery: Sendable {
        /// A PKCS#12 file under `password` (8 to 1024 bytes, the caller's own secret), with `iterations`
        /// of PBKDF2 and of the MAC's key derivation (2048, OpenSSL's default, to 1,000,000).
        case pkcs12(password: String, iterations: Int)
        /// Wrapped to the RSA public key in `pem` (2048 bits or more) with RSA-OAEP using `hash`, as the
        /// `CKM_RSA_AES_KEY_WRAP` layout: the OAEP-wrapped AES key, then the RFC 5649-wrapped PKCS#8 key.
        case rsaPublicKey(pem: String, hash: OAEPHash)
    }

    /// A generated key as delivered: its certificate, the chain above it, and the key as `delivery`
    /// asked (the PKCS#12 file, or the wrapped key).
    public struct DeliveredKey: Sendable {
        public let record: CertificateRecord
        public let chain: [[UInt8]]
        public let pkcs12: [UInt8]?
        public let wrappedKey: [UInt8]?
    }

    /// Key algorithms offered for devices.
    public static let deviceKeyAlgorithms: [KeyAlgorithm] = [.ecP256, .ecP384, .ecP521, .rsa2048, .rsa3072, .rsa4096]

    /// Generates a key pair in the HSM, issues its certificate under the CA's policy, and returns the
    /// key in a PKCS#12 file. The certificate, its audit entry and an audit entry for the key's
    /// delivery are stored together; if issuance is refused, the wrapped key is dropped unseen.
    public func generateDeviceKey(_ request: DeviceKeyRequest, requester: Requester) async throws(EnrollmentError)
        -> DeliveredKey
    {
        guard Self.deviceKeyAlgorithms.contains(request.algorithm) else {
            throw EnrollmentError(
                .invalidInput,
                "device keys are " + Self.deviceKeyAlgorithms.map(\.rawValue).joined(separator: ", ")
                    + ", not \(request.algorithm.rawValue)"
            )
        }
        let subject: DistinguishedName
        let names: [SubjectAlternativeName]
        do {
            subject = try DistinguishedNameText.parse(request.subject)
            names = try request.alternativeNames.map { text throws(CAError) in try SubjectAlternativeName(text: text) }
            try await authority.authority(request.ca).requireUsable()
        } catch {
            throw EnrollmentError(error.code == .caNotUsable ? .invalidInput : .invalidInput, error.message)
        }
        let salt = Self.randomBytes(16)
        let iv = Self.randomBytes(16)
        let hsmDelivery: KeyPairDelivery
        let how: String
        switch request.delivery {
        case .pkcs12(let password, let iterations):
            guard (8...1024).contains(password.utf8.count) else {
                throw EnrollmentError(.invalidInput, "the PKCS#12 password has 8 to 1024 bytes")
            }
            guard (2048...1_000_000).contains(iterations) else {
                throw EnrollmentError(.invalidInput, "iterations must be from 2048 to 1000000")
            }
            hsmDelivery = .aesCBC(iv: iv) {
                // The caller's password, stretched here; copied into the template's buffer, which the key
                // store clears after C_CreateObject (the SymmetricKey clears its own storage when it goes).
                let derived = try KDF.Insecure.PBKDF2.deriveKey(
                    from: Array(password.utf8),
                    salt: salt,
                    using: .sha256,
                    outputByteCount: 32,
                    // The caller chooses (from OpenSSL's default of 2048 up): swift-crypto's checked variant
                    // refuses counts below its own floor, which PKCS#12 readers do not have.
                    unsafeUncheckedRounds: iterations
                )
                return AttributeTemplate([.bytes(.value, derived.withUnsafeBytes { Array($0) })])
            }
            how = "as PKCS#12 (PBES2: PBKDF2-HMAC-SHA-256 \(iterations) iterations, AES-256-CBC)"
        case .rsaPublicKey(let pem, let hash):
            let recipient: _RSA.Encryption.PublicKey
            let primitives: _RSA.Encryption.PublicKey.Primitives
            do {
                recipient = try _RSA.Encryption.PublicKey(pemRepresentation: pem)
                primitives = try recipient.getKeyPrimitives()
            } catch {
                throw EnrollmentError(.invalidInput, "rsaPublicKey is not a PEM RSA public key of 2048 bits or more")
            }
            hsmDelivery = .rsaAESKeyWrap(
                modulus: Array(primitives.modulus.drop { $0 == 0 }),
                exponent: Array(primitives.publicExponent),
                hash: hash
            )
            let fingerprint = Hex.encode(Array(SHA256.hash(data: recipient.derRepresentation)).prefix(8))
            how = "wrapped to RSA key \(fingerprint) (RSA-OAEP-\(hash.rawValue) and RFC 5649 AES key wrap)"
        }
        let generated: (publicKey: PKCS11.PublicKey, wrappedPrivateKey: [UInt8])
        do {
            generated = try await authority.signing.keyStore.generateWrappedKeyPair(
                request.algorithm,
                delivery: hsmDelivery
            )
        } catch let error as HSMError where error.code == .unsupported {
            throw EnrollmentError(
                .notImplemented,
                error.reason + "; deliver the key to an RSA public key instead, or use a token that can"
            )
        } catch {
            throw EnrollmentError.from(error)
        }
        let publicKey: Certificate.PublicKey
        do { publicKey = try Certificate.PublicKey(derEncoded: generated.publicKey.derRepresentation) } catch {
            throw EnrollmentError(.internalError, "the generated public key does not read back: \(error)")
        }
        let algorithm = request.algorithm.rawValue
        let issued: CertificateAuthority.IssuedCertificate
        do {
            issued = try await authority.issue(
                ca: request.ca,
                generatedKey: publicKey,
                subject: subject,
                alternativeNames: names,
                category: request.category,
                validityDays: request.validityDays,
                metadata: request.metadata,
                requester: requester,
                alsoWrite: { txn, certificate in
                    try txn.appendAudit(
                        AuditEvent(
                            actor: requester.actor,
                            action: "enrollment.key.deliver",
                            object: "certificate/\(certificate.issuer)/\(Hex.encode(certificate.serial))",
                            outcome: "success: \(algorithm) key generated in the HSM, delivered \(how); no copy kept",
                            requestID: requester.requestID
                        )
                    )
                }
            )
        } catch {
            throw EnrollmentError.from(error)
        }
        guard case .pkcs12(let password, let iterations) = request.delivery else {
            return DeliveredKey(
                record: issued.record,
                chain: issued.chain,
                pkcs12: nil,
                wrappedKey: generated.wrappedPrivateKey
            )
        }
        do {
            let pkcs12 = try PKCS12Writer.pfx(
                certificates: [issued.record.der] + issued.chain,
                key: .init(ciphertext: generated.wrappedPrivateKey, salt: salt, iterations: iterations, iv: iv),
                password: password,
                macSalt: Self.randomBytes(16),
                macIterations: iterations,
                name: DistinguishedNameText.values(.RDNAttributeType.commonName, in: subject).last
            )
            return DeliveredKey(record: issued.record, chain: issued.chain, pkcs12: pkcs12, wrappedKey: nil)
        } catch {
            throw EnrollmentError(.internalError, "the PKCS#12 file cannot be written: \(error)")
        }
    }
}
