import Crypto
public import Foundation
public import PKCS11
import SwiftASN1
public import X509

/// What an end-entity certificate is for. Each category has its own default policy (validity, key
/// usage, extended key usage) that a CA's policy for the category can change.
public enum CertificateCategory: String, Sendable, Hashable, Codable, CaseIterable {
    case tlsServer = "tls-server"
    case tlsClient = "tls-client"
    case device
    case user
    case codeSigning = "code-signing"
    case ocspSigning = "ocsp-signing"
    /// A SCEP registration authority (RFC 8894 section 2.1): Custos' own RSA key that signs CertReps
    /// and receives requests encrypted to it.
    case registrationAuthority = "registration-authority"

    /// Key usage for a subject key of `algorithm` (RFC 5280 section 4.2.1.3): every key signs; users'
    /// RSA keys also transport keys (S/MIME). TLS servers sign only: ECDHE in TLS 1.2 and 1.3 needs no
    /// key transport, and the Baseline Requirements advise against both bits together. EC and Ed25519
    /// keys never encipher.
    public func keyUsage(for algorithm: SubjectKeyAlgorithm) -> KeyUsage {
        var usage = KeyUsage(digitalSignature: true)
        if algorithm.isRSA && (self == .user || self == .registrationAuthority) { usage.keyEncipherment = true }
        return usage
    }

    /// The extended key usages the category has by default.
    public var extendedKeyUsage: [ExtendedKeyUsage.Usage] {
        switch self {
        case .tlsServer: [.serverAuth]
        case .tlsClient, .device: [.clientAuth]
        case .user: [.clientAuth, .emailProtection]
        case .codeSigning: [.codeSigning]
        case .ocspSigning: [.ocspSigning]
        // id-kp-cmcRA (RFC 6402 section 2.10): a registration authority's key.
        case .registrationAuthority: [ExtendedKeyUsage.Usage(oid: [1, 3, 6, 1, 5, 5, 7, 3, 28])]
        }
    }

    /// Default validity in days for certificates issued at `date`.
    public func defaultValidityDays(at date: Date = Date()) -> Int {
        switch self {
        // One day under the maximum: pkilint warns from the maximum on (it treats the limit as exclusive).
        case .tlsServer: Self.serverAuthMaxValidityDays(at: date) - 1
        case .tlsClient, .user, .registrationAuthority: 365
        case .device: 3650
        case .codeSigning: 1095
        case .ocspSigning: 30
        }
    }

    /// The longest validity the default policy allows for certificates issued at `date`, in days.
    public func defaultMaxValidityDays(at date: Date = Date()) -> Int {
        switch self {
        case .tlsServer: Self.serverAuthMaxValidityDays(at: date)
        case .tlsClient, .user, .registrationAuthority: 825
        case .device: 10_950
        case .codeSigning: 1187  // CA/Browser Forum code-signing requirements 6.3.2 (39 months)
        case .ocspSigning: 366
        }
    }
}

extension CertificateCategory {
    /// The longest TLS server certificate validity the CA/Browser Forum Baseline Requirements (6.3.2,
    /// ballot SC-081) allow for a certificate issued at `date`: 398 days before 15 March 2026, then
    /// 200, 100 from 15 March 2027, 47 from 15 March 2029.
    public static func serverAuthMaxValidityDays(at date: Date) -> Int {
        let steps: [(since: TimeInterval, days: Int)] = [
            (1_868_227_200, 47),  // 2029-03-15T00:00:00Z
            (1_805_068_800, 100),  // 2027-03-15T00:00:00Z
            (1_773_532_800, 200),  // 2026-03-15T00:00:00Z
        ]
        return steps.first { date.timeIntervalSince1970 >= $0.since }?.days ?? 398
    }
}

/// The public-key algorithm of a subject key, as read from a CSR's SubjectPublicKeyInfo.
public struct SubjectKeyAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// `ec-p256`, `rsa-2048`, `ed25519`, … (the names `KeyAlgorithm` uses, and `rsa-N` for any size).
    public let name: String
    public let isRSA: Bool

    /// Reads the algorithm of `key`; throws for keys Custos does not certify.
    public init(_ key: Certificate.PublicKey) throws(CAError) {
        // EC and Ed25519 keys by their type: serialising an EC key to read its OID costs a field inversion.
        if P256.Signing.PublicKey(key) != nil {
            (name, isRSA) = ("ec-p256", false)
            return
        }
        if P384.Signing.PublicKey(key) != nil {
            (name, isRSA) = ("ec-p384", false)
            return
        }
        if P521.Signing.PublicKey(key) != nil {
            (name, isRSA) = ("ec-p521", false)
            return
        }
        if Curve25519.Signing.PublicKey(key) != nil {
            (name, isRSA) = ("ed25519", false)
            return
        }
        var serializer = DER.Serializer()
        let info: (algorithm: ASN1ObjectIdentifier, parameters: ASN1ObjectIdentifier?, bits: Int)
        do {
            try serializer.serialize(key)
            info = try Self.describe(serializer.serializedBytes)
        } catch {
            throw CAError(.invalidCSR, "the public key cannot be read: \(error)")
        }
        switch (info.algorithm, info.parameters) {
        case (Self.ecPublicKey, Self.p256): (name, isRSA) = ("ec-p256", false)
        case (Self.ecPublicKey, Self.p384): (name, isRSA) = ("ec-p384", false)
        case (Self.ecPublicKey, Self.p521): (name, isRSA) = ("ec-p521", false)
        case (Self.rsaEncryption, _): (name, isRSA) = ("rsa-\(info.bits)", true)
        case (Self.ed25519, _): (name, isRSA) = ("ed25519", false)
        default: throw CAError(.policyViolation, "key algorithm \(info.algorithm) is not one Custos certifies")
        }
    }

    public init(_ algorithm: KeyAlgorithm) {
        name = algorithm.rawValue
        isRSA = algorithm.rawValue.hasPrefix("rsa-")
    }

    public var description: String { name }

    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    static let p256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    static let p384: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    static let p521: ASN1ObjectIdentifier = [1, 3, 132, 0, 35]

    /// The modulus size of the RSA key a PKCS#10 request (DER) carries; nil when it is not an RSA key or
    /// the request cannot be read this far. For requests swift-certificates refuses to parse because
    /// swift-crypto refuses their key (RSA under 2048 bits): those are a policy refusal, not a broken
    /// request.
    static func rsaModulusBits(inCSR der: [UInt8]) -> Int? {
        // CertificationRequest ::= SEQUENCE { certificationRequestInfo SEQUENCE { version INTEGER,
        //     subject Name, subjectPKInfo SubjectPublicKeyInfo, ... }, ... } (RFC 2986 section 4)
        guard
            let spki = try? DER.sequence(
                try DER.parse(der),
                identifier: .sequence,
                { request -> [UInt8] in
                    guard let info = request.next() else { throw ASN1Error.invalidASN1Object(reason: "empty request") }
                    while request.next() != nil {}
                    return try DER.sequence(info, identifier: .sequence) { fields in
                        _ = fields.next()
                        _ = fields.next()
                        guard let key = fields.next() else { throw ASN1Error.invalidASN1Object(reason: "no key") }
                        while fields.next() != nil {}
                        return Array(key.encodedBytes)
                    }
                }
            ),
            let (algorithm, _, bits) = try? describe(spki), algorithm == rsaEncryption
        else { return nil }
        return bits
    }

    /// SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
    /// (RFC 5280 section 4.1); for RSA the modulus size comes from RSAPublicKey (RFC 8017 A.1.1).
    private static func describe(_ der: [UInt8]) throws -> (ASN1ObjectIdentifier, ASN1ObjectIdentifier?, Int) {
        let root = try DER.parse(der)
        return try DER.sequence(root, identifier: .sequence) { nodes in
            guard let algorithmNode = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "SubjectPublicKeyInfo without an algorithm")
            }
            let (algorithm, parameters) = try DER.sequence(algorithmNode, identifier: .sequence) { inner in
                let algorithm = try ASN1ObjectIdentifier(derEncoded: &inner)
                let parameters = inner.next().flatMap { try? ASN1ObjectIdentifier(derEncoded: $0) }
                while inner.next() != nil {}
                return (algorithm, parameters)
            }
            let bits = try ASN1BitString(derEncoded: &nodes)
            guard algorithm == rsaEncryption else { return (algorithm, parameters, 0) }
            let modulusBits = try DER.sequence(try DER.parse(bits.bytes), identifier: .sequence) { fields in
                let modulus = try ArraySlice<UInt8>(derEncoded: &fields)
                _ = try ArraySlice<UInt8>(derEncoded: &fields)
                let significant = modulus.drop { $0 == 0 }
                guard let first = significant.first else { return 0 }
                return significant.count * 8 - first.leadingZeroBitCount
            }
            return (algorithm, parameters, modulusBits)
        }
    }
}
