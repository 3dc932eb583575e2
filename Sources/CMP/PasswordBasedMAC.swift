import Crypto
public import CustosX509
import SwiftASN1

/// Protection by a MAC under a key derived from a shared secret: RFC 4211 section 4.4's PasswordBasedMac
/// (the key is the one-way function applied `iterationCount` times to secret ‖ salt), which OpenSSL and
/// older devices send.
///
/// ```
/// PBMParameter ::= SEQUENCE {
///   salt            OCTET STRING,
///   owf             AlgorithmIdentifier,  -- SHA-1, SHA-256, …
///   iterationCount  INTEGER,
///   mac             AlgorithmIdentifier }  -- HMAC-SHA1, hmacWithSHA256, …
/// ```
public struct PasswordBasedMAC: Sendable, Hashable {
    public var salt: [UInt8]
    public var oneWayFunction: MACHash
    public var iterations: Int
    public var mac: MACHash

    /// Iteration counts accepted from a requester: enough to mean something, few enough that a stranger
    /// cannot make the server hash for long.
    public static let acceptedIterations = 100...100_000

    public init(salt: [UInt8], oneWayFunction: MACHash = .sha256, iterations: Int = 10_000, mac: MACHash = .sha256) {
        self.salt = salt
        self.oneWayFunction = oneWayFunction
        self.iterations = iterations
        self.mac = mac
    }

    init(parameters: [UInt8]?) throws(CMPError) {
        guard let parameters else { throw CMPError(.badAlg, "PasswordBasedMac has no parameters") }
        let node = try parsing("PBMParameter") { try DER.parse(parameters) }
        var iterator = try children(of: node, .sequence, "PBMParameter").makeIterator()
        guard let saltNode = iterator.next(), let owfNode = iterator.next(), let countNode = iterator.next(),
            let macNode = iterator.next(), iterator.next() == nil
        else { throw CMPError(.badDataFormat, "PBMParameter has four fields") }
        salt = try octets(saltNode, "the PBM salt")
        let owf = try parsing("the PBM owf") { try CMSAlgorithmIdentifier(node: owfNode) }
        guard let function = MACHash(digest: owf.algorithm) else {
            throw CMPError(.badAlg, "PBM one-way function \(owf.algorithm) is not supported")
        }
        oneWayFunction = function
        iterations = try smallInteger(countNode, "the PBM iteration count")
        guard Self.acceptedIterations.contains(iterations) else {
            throw CMPError(.badAlg, "the PBM iteration count \(iterations) is outside 100 to 100000")
        }
        let macAlgorithm = try parsing("the PBM mac") { try CMSAlgorithmIdentifier(node: macNode) }
        guard let macFunction = MACHash(hmac: macAlgorithm.algorithm) else {
            throw CMPError(.badAlg, "PBM MAC algorithm \(macAlgorithm.algorithm) is not supported")
        }
        mac = macFunction
        guard (8...64).contains(salt.count) else { throw CMPError(.badAlg, "the PBM salt has 8 to 64 bytes") }
    }

    /// The protectionAlg naming this MAC with its parameters.
    public var algorithmIdentifier: CMSAlgorithmIdentifier {
        get throws {
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: .sequence) { sequence in
                try sequence.serialize(ASN1OctetString(contentBytes: salt[...]))
                try CMSAlgorithmIdentifier(oneWayFunction.digestOID).serialize(into: &sequence)
                try sequence.serialize(iterations)
                try CMSAlgorithmIdentifier(mac.hmacOID).serialize(into: &sequence)
            }
            return CMSAlgorithmIdentifier(CMPObjectIdentifiers.passwordBasedMAC, parameters: coder.serializedBytes)
        }
    }

    /// The MAC key derived from `secret` (the one-way function applied `iterations` times to
    /// secret ‖ salt); the caller wipes it when done.
    public func key(secret: [UInt8]) -> [UInt8] {
        var value = secret + salt
        defer { wipe(&value) }
        return oneWayFunction.iterate(value, times: iterations)
    }

    /// The MAC of `data` under the key derived from `secret`. Intermediate values are wiped.
    public func authenticationCode(secret: [UInt8], data: [UInt8]) -> [UInt8] {
        var derived = key(secret: secret)
        defer { wipe(&derived) }
        return mac.hmac(key: derived, data: data)
    }
}

/// The hash functions CMP's MACs use (RFC 9481 sections 6.1 and 6.2).
public enum MACHash: Sendable, Hashable {
    case sha1, sha256, sha384, sha512

    init?(digest oid: ASN1ObjectIdentifier) {
        switch oid {
        case [1, 3, 14, 3, 2, 26]: self = .sha1
        case [2, 16, 840, 1, 101, 3, 4, 2, 1]: self = .sha256
        case [2, 16, 840, 1, 101, 3, 4, 2, 2]: self = .sha384
        case [2, 16, 840, 1, 101, 3, 4, 2, 3]: self = .sha512
        default: return nil
        }
    }

    /// HMAC-SHA1 (1.3.6.1.5.5.8.1.2, RFC 2104; also 1.2.840.113549.2.7) and hmacWithSHA256/384/512 (RFC 8018).
    init?(hmac oid: ASN1ObjectIdentifier) {
        switch oid {
        case [1, 3, 6, 1, 5, 5, 8, 1, 2], [1, 2, 840, 113_549, 2, 7]: self = .sha1
        case [1, 2, 840, 113_549, 2, 9]: self = .sha256
        case [1, 2, 840, 113_549, 2, 10]: self = .sha384
        case [1, 2, 840, 113_549, 2, 11]: self = .sha512
        default: return nil
        }
    }

    var digestOID: ASN1ObjectIdentifier {
        switch self {
        case .sha1: [1, 3, 14, 3, 2, 26]
        case .sha256: [2, 16, 840, 1, 101, 3, 4, 2, 1]
        case .sha384: [2, 16, 840, 1, 101, 3, 4, 2, 2]
        case .sha512: [2, 16, 840, 1, 101, 3, 4, 2, 3]
        }
    }

    var hmacOID: ASN1ObjectIdentifier {
        switch self {
        case .sha1: [1, 3, 6, 1, 5, 5, 8, 1, 2]
        case .sha256: [1, 2, 840, 113_549, 2, 9]
        case .sha384: [1, 2, 840, 113_549, 2, 10]
        case .sha512: [1, 2, 840, 113_549, 2, 11]
        }
    }

    var outputByteCount: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    /// The hash applied `times` (≥ 1) times to `data`, each round hashing the last digest in place.
    func iterate(_ data: [UInt8], times: Int) -> [UInt8] {
        switch self {
        case .sha1: Self.iterate(Insecure.SHA1.self, data, times)
        case .sha256: Self.iterate(SHA256.self, data, times)
        case .sha384: Self.iterate(SHA384.self, data, times)
        case .sha512: Self.iterate(SHA512.self, data, times)
        }
    }

    private static func iterate<H: HashFunction>(_: H.Type, _ data: [UInt8], _ times: Int) -> [UInt8] {
        var digest = H.hash(data: data)
        for _ in 1..<max(times, 1) {
            digest = digest.withUnsafeBytes { H.hash(data: $0) }
        }
        return digest.withUnsafeBytes { Array($0) }
    }

    func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha384: return Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }
}

/// Overwrites a buffer that held secret material.
func wipe(_ bytes: inout [UInt8]) {
    for index in bytes.indices { bytes[index] = 0 }
}
