import Codecs
public import Crypto
import Foundation
public import _CryptoExtras

/// A public key read from a token, as a swift-crypto type.
public enum PublicKey: Sendable {
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case p521(P521.Signing.PublicKey)
    case rsa(_RSA.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    /// The key's algorithm.
    public var algorithm: KeyAlgorithm {
        switch self {
        case .p256: .ecP256
        case .p384: .ecP384
        case .p521: .ecP521
        case .ed25519: .ed25519
        case .rsa(let key):
            switch key.keySizeInBits {
            case 4096: .rsa4096
            case 3072: .rsa3072
            default: .rsa2048
            }
        }
    }

    /// DER SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7).
    public var derRepresentation: [UInt8] {
        switch self {
        case .p256(let key): Array(key.derRepresentation)
        case .p384(let key): Array(key.derRepresentation)
        case .p521(let key): Array(key.derRepresentation)
        case .rsa(let key): Array(key.derRepresentation)
        case .ed25519(let key):
            Self.ed25519Prefix + Array(key.rawRepresentation)
        }
    }

    /// An Ed25519 SubjectPublicKeyInfo up to the key: SEQUENCE { SEQUENCE { id-Ed25519 }, BIT STRING }
    /// (RFC 8410 section 4).
    private static let ed25519Prefix: [UInt8] = [
        0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00,
    ]

    /// Parses a DER SubjectPublicKeyInfo of `algorithm`.
    public init(derRepresentation der: [UInt8], algorithm: KeyAlgorithm) throws {
        switch algorithm {
        case .ecP256: self = .p256(try P256.Signing.PublicKey(derRepresentation: der))
        case .ecP384: self = .p384(try P384.Signing.PublicKey(derRepresentation: der))
        case .ecP521: self = .p521(try P521.Signing.PublicKey(derRepresentation: der))
        case .rsa2048, .rsa3072, .rsa4096: self = .rsa(try _RSA.Signing.PublicKey(derRepresentation: der))
        case .ed25519:
            guard der.count == Self.ed25519Prefix.count + 32, der.starts(with: Self.ed25519Prefix) else {
                throw PKCS11Error(code: .unexpectedValue, reason: "not an Ed25519 SubjectPublicKeyInfo")
            }
            self = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: der.suffix(32)))
        }
        guard self.algorithm == algorithm else {
            throw PKCS11Error(code: .unexpectedValue, reason: "the public key is not \(algorithm.rawValue)")
        }
    }

    /// PEM `PUBLIC KEY`.
    public var pemRepresentation: String {
        PEM.encode(derRepresentation, label: "PUBLIC KEY") + "\n"
    }

    /// Checks a signature made by `scheme` over `input` with swift-crypto (not the token).
    /// ECDSA signatures are accepted raw (r‖s) or DER. RSA needs the message: swift-crypto takes RSA
    /// digests only as its own digest types, so an RSA check of a bare digest is false here (verify
    /// those with the token).
    public func isValidSignature(_ signature: [UInt8], scheme: SignatureScheme, input: SigningInput) -> Bool {
        guard scheme.isCompatible(with: algorithm) else { return false }
        // RSA hashes the message itself below (swift-crypto wants its own digest types); the others
        // take the prepared digest or message.
        let prepared = algorithm.keyType == .rsa ? nil : try? scheme.prepare(input)
        switch (self, scheme) {
        case (.ed25519(let key), .ed25519):
            guard let prepared else { return false }
            return key.isValidSignature(signature, for: prepared.data)
        case (.p256(let key), .ecdsa):
            let parsed =
                (try? P256.Signing.ECDSASignature(rawRepresentation: signature))
                ?? (try? P256.Signing.ECDSASignature(derRepresentation: signature))
            guard let parsed, let prepared else { return false }
            return key.isValidSignature(parsed, for: hostDigest(prepared.data))
        case (.p384(let key), .ecdsa):
            let parsed =
                (try? P384.Signing.ECDSASignature(rawRepresentation: signature))
                ?? (try? P384.Signing.ECDSASignature(derRepresentation: signature))
            guard let parsed, let prepared else { return false }
            return key.isValidSignature(parsed, for: hostDigest(prepared.data))
        case (.p521(let key), .ecdsa):
            let parsed =
                (try? P521.Signing.ECDSASignature(rawRepresentation: signature))
                ?? (try? P521.Signing.ECDSASignature(derRepresentation: signature))
            guard let parsed, let prepared else { return false }
            return key.isValidSignature(parsed, for: hostDigest(prepared.data))
        case (.rsa(let key), .rsaPKCS1v15(let hash)):
            guard case .message(let message) = input else { return false }
            return Self.withRealDigest(hash, message) { digest in
                key.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature),
                    for: digest,
                    padding: .insecurePKCS1v1_5
                )
            }
        case (.rsa(let key), .rsaPSS(let hash, let saltLength)):
            // swift-crypto verifies PSS with the salt as long as the digest only.
            guard saltLength == hash.byteCount, case .message(let message) = input else { return false }
            return Self.withRealDigest(hash, message) { digest in
                key.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature),
                    for: digest,
                    padding: .PSS
                )
            }
        default:
            return false
        }
    }
}

extension PublicKey {
    /// Hashes `message` into swift-crypto's own digest type, which its RSA code requires.
    fileprivate static func withRealDigest(_ hash: HashAlgorithm, _ message: [UInt8], _ body: (any Digest) -> Bool)
        -> Bool
    {
        switch hash {
        case .sha256: body(SHA256.hash(data: message))
        case .sha384: body(SHA384.hash(data: message))
        case .sha512: body(SHA512.hash(data: message))
        }
    }
}

/// A digest computed elsewhere, handed to swift-crypto's `Digest`-taking APIs. The length is part of
/// the type because swift-crypto picks the RSA hash from `Digest.byteCount`.
protocol DigestLength { static var byteCount: Int { get } }
enum DigestLength32: DigestLength { static var byteCount: Int { 32 } }
enum DigestLength48: DigestLength { static var byteCount: Int { 48 } }
enum DigestLength64: DigestLength { static var byteCount: Int { 64 } }

struct DigestBytes<Length: DigestLength>: Digest {
    var bytes: [UInt8]
    static var byteCount: Int { Length.byteCount }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
    func makeIterator() -> Array<UInt8>.Iterator { bytes.makeIterator() }
    var description: String { "DigestBytes(\(bytes.count) bytes)" }
}

/// The digest wrapped in the type of its length.
func hostDigest(_ bytes: [UInt8]) -> any Digest {
    switch bytes.count {
    case 48: DigestBytes<DigestLength48>(bytes: bytes)
    case 64: DigestBytes<DigestLength64>(bytes: bytes)
    default: DigestBytes<DigestLength32>(bytes: bytes)
    }
}

/// Converts ECDSA signatures between the token's raw r‖s form and DER (RFC 3279 section 2.2.3).
public enum ECDSASignatureFormat {
    /// DER `ECDSA-Sig-Value` from raw r‖s for a curve of `algorithm`:
    ///
    ///     Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
    ///
    /// Written directly (every signature the service and the CA make passes through here; going
    /// through swift-crypto's signature type builds two BoringSSL bignums and a DER encoder for it).
    /// `ECDSASignatureFormatTests` checks it against swift-crypto byte for byte.
    public static func der(fromRaw raw: [UInt8], algorithm: KeyAlgorithm) throws -> [UInt8] {
        let size: Int
        switch algorithm {
        case .ecP256: size = 32
        case .ecP384: size = 48
        case .ecP521: size = 66
        default: throw PKCS11Error(code: .invalidArgument, reason: "\(algorithm.rawValue) is not an ECDSA key")
        }
        guard raw.count == 2 * size else {
            throw PKCS11Error(
                code: .invalidArgument,
                reason: "a raw \(algorithm.rawValue) signature has \(2 * size) bytes, not \(raw.count)"
            )
        }
        let r = raw[..<size].drop { $0 == 0 }
        let s = raw[size...].drop { $0 == 0 }
        let bodyLength = 2 + integerLength(r) + 2 + integerLength(s)
        var der: [UInt8] = []
        der.reserveCapacity(3 + bodyLength)
        der.append(0x30)
        if bodyLength >= 0x80 { der.append(0x81) }  // P-521 only: at most 2 × (2 + 67) bytes
        der.append(UInt8(bodyLength))
        appendInteger(r, to: &der)
        appendInteger(s, to: &der)
        return der
    }

    private static func appendInteger(_ magnitude: ArraySlice<UInt8>, to der: inout [UInt8]) {
        der.append(0x02)
        der.append(UInt8(integerLength(magnitude)))
        // A zero byte in front when the top bit would read as a sign, and for zero itself.
        if magnitude.first.map({ $0 >= 0x80 }) ?? true { der.append(0) }
        der.append(contentsOf: magnitude)
    }

    /// Content length of the DER INTEGER for an unsigned big-endian `magnitude` without leading zeros.
    private static func integerLength(_ magnitude: ArraySlice<UInt8>) -> Int {
        magnitude.count + (magnitude.first.map { $0 >= 0x80 } ?? true ? 1 : 0)
    }

    /// Raw r‖s from DER.
    public static func raw(fromDER der: [UInt8], algorithm: KeyAlgorithm) throws -> [UInt8] {
        switch algorithm {
        case .ecP256: Array(try P256.Signing.ECDSASignature(derRepresentation: der).rawRepresentation)
        case .ecP384: Array(try P384.Signing.ECDSASignature(derRepresentation: der).rawRepresentation)
        case .ecP521: Array(try P521.Signing.ECDSASignature(derRepresentation: der).rawRepresentation)
        default: throw PKCS11Error(code: .invalidArgument, reason: "\(algorithm.rawValue) is not an ECDSA key")
        }
    }
}

extension Session {
    /// Reads the public key of a public- or private-key object.
    public func publicKey(of object: ObjectHandle) throws(PKCS11Error) -> PublicKey {
        let keyType = KeyType(rawValue: try ulongAttribute(.keyType, of: object))
        do {
            switch keyType {
            case .rsa:
                let modulus = try attribute(.modulus, of: object)
                let exponent = try attribute(.publicExponent, of: object)
                return .rsa(try _RSA.Signing.PublicKey(n: modulus, e: exponent))
            case .ec, .ecEdwards:
                let parameters = try attribute(.ecParams, of: object)
                let point = Self.unwrapECPoint(try attribute(.ecPoint, of: object))
                guard let algorithm = KeyAlgorithm.allCases.first(where: { $0.ecParameters == parameters }) else {
                    throw PKCS11Error(
                        code: .unsupported,
                        reason: "curve with CKA_EC_PARAMS \(parameters) is not supported"
                    )
                }
                switch algorithm {
                case .ecP256: return .p256(try P256.Signing.PublicKey(x963Representation: point))
                case .ecP384: return .p384(try P384.Signing.PublicKey(x963Representation: point))
                case .ecP521: return .p521(try P521.Signing.PublicKey(x963Representation: point))
                default: return .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: point))
                }
            default:
                throw PKCS11Error(
                    code: .unsupported,
                    reason: "key type 0x\(String(keyType.rawValue, radix: 16)) is not supported"
                )
            }
        } catch let error as PKCS11Error {
            throw error
        } catch {
            throw PKCS11Error(code: .unexpectedValue, reason: "public key of \(object) is malformed: \(error)")
        }
    }

    /// `CKA_EC_POINT` is a DER OCTET STRING around the point (PKCS#11 v2.40 section 2.3.3); some
    /// tokens return the bare point. Unwrap only when the DER length accounts for every byte.
    static func unwrapECPoint(_ value: [UInt8]) -> [UInt8] {
        guard value.count > 2, value[0] == 0x04 else { return value }
        var length = Int(value[1])
        var header = 2
        if value[1] & 0x80 != 0 {
            let octets = Int(value[1] & 0x7F)
            guard octets >= 1, octets <= 2, value.count > 2 + octets else { return value }
            length = value[2..<(2 + octets)].reduce(0) { $0 << 8 | Int($1) }
            header = 2 + octets
        }
        return header + length == value.count ? Array(value[header...]) : value
    }
}
