import Crypto
public import CustosX509
import SwiftASN1
import _CryptoExtras

/// Protection by PBMAC1 (RFC 8018 section 7.1, RFC 9481 section 6.1.3): an HMAC under a key PBKDF2 derives
/// from the shared secret.
///
/// ```
/// PBMAC1-params ::= SEQUENCE {
///   keyDerivationFunc  AlgorithmIdentifier {{PBMAC1-KDFs}},   -- id-PBKDF2
///   messageAuthScheme  AlgorithmIdentifier {{PBMAC1-MACs}} }  -- hmacWithSHA256, …
/// PBKDF2-params ::= SEQUENCE {
///   salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier },
///   iterationCount INTEGER (1..MAX),
///   keyLength INTEGER (1..MAX) OPTIONAL,
///   prf AlgorithmIdentifier DEFAULT algid-hmacWithSHA1 }
/// ```
public struct PBMAC1: Sendable, Hashable {
    public var salt: [UInt8]
    public var iterations: Int
    public var keyLength: Int
    public var pseudoRandomFunction: MACHash
    public var mac: MACHash

    /// Iteration counts accepted from a requester (RFC 9481 asks for at least 10,000 in new work; devices
    /// send fewer).
    public static let acceptedIterations = 100...1_000_000

    public init(
        salt: [UInt8],
        iterations: Int = 10_000,
        keyLength: Int = 32,
        prf: MACHash = .sha256,
        mac: MACHash = .sha256
    ) {
        self.salt = salt
        self.iterations = iterations
        self.keyLength = keyLength
        self.pseudoRandomFunction = prf
        self.mac = mac
    }

    init(parameters: [UInt8]?) throws(CMPError) {
        guard let parameters else { throw CMPError(.badAlg, "PBMAC1 has no parameters") }
        let node = try parsing("PBMAC1-params") { try DER.parse(parameters) }
        var iterator = try children(of: node, .sequence, "PBMAC1-params").makeIterator()
        guard let kdfNode = iterator.next(), let macNode = iterator.next(), iterator.next() == nil else {
            throw CMPError(.badDataFormat, "PBMAC1-params has two fields")
        }
        let kdf = try parsing("the PBMAC1 KDF") { try CMSAlgorithmIdentifier(node: kdfNode) }
        guard kdf.algorithm == CMPObjectIdentifiers.pbkdf2, let kdfParameters = kdf.parameters else {
            throw CMPError(.badAlg, "PBMAC1's key derivation \(kdf.algorithm) is not PBKDF2")
        }
        let macAlgorithm = try parsing("the PBMAC1 MAC") { try CMSAlgorithmIdentifier(node: macNode) }
        guard let macFunction = MACHash(hmac: macAlgorithm.algorithm) else {
            throw CMPError(.badAlg, "PBMAC1 MAC algorithm \(macAlgorithm.algorithm) is not supported")
        }
        mac = macFunction
        let pbkdf2 = try parsing("PBKDF2-params") { try DER.parse(kdfParameters) }
        var fields = try children(of: pbkdf2, .sequence, "PBKDF2-params").makeIterator()
        guard let saltNode = fields.next(), let countNode = fields.next() else {
            throw CMPError(.badDataFormat, "PBKDF2-params lacks its salt or iteration count")
        }
        salt = try octets(saltNode, "the PBKDF2 salt")
        iterations = try smallInteger(countNode, "the PBKDF2 iteration count")
        keyLength = macFunction.outputByteCount
        pseudoRandomFunction = .sha1
        while let field = fields.next() {
            if field.identifier == .integer {
                keyLength = try smallInteger(field, "the PBKDF2 key length")
            } else {
                let prf = try parsing("the PBKDF2 prf") { try CMSAlgorithmIdentifier(node: field) }
                guard let function = MACHash(hmac: prf.algorithm) else {
                    throw CMPError(.badAlg, "PBKDF2 PRF \(prf.algorithm) is not supported")
                }
                pseudoRandomFunction = function
            }
        }
        guard Self.acceptedIterations.contains(iterations) else {
            throw CMPError(.badAlg, "the PBKDF2 iteration count \(iterations) is outside 100 to 1000000")
        }
        guard (16...64).contains(keyLength), (8...64).contains(salt.count) else {
            throw CMPError(.badAlg, "PBKDF2's key has 16 to 64 bytes and its salt 8 to 64")
        }
    }

    /// The protectionAlg naming this MAC with its parameters.
    public var algorithmIdentifier: CMSAlgorithmIdentifier {
        get throws {
            var kdf = DER.Serializer()
            try kdf.appendConstructedNode(identifier: .sequence) { sequence in
                try sequence.serialize(ASN1OctetString(contentBytes: salt[...]))
                try sequence.serialize(iterations)
                try sequence.serialize(keyLength)
                try CMSAlgorithmIdentifier(pseudoRandomFunction.hmacOID, parameters: [0x05, 0x00]).serialize(
                    into: &sequence
                )
            }
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: .sequence) { sequence in
                try CMSAlgorithmIdentifier(CMPObjectIdentifiers.pbkdf2, parameters: kdf.serializedBytes)
                    .serialize(into: &sequence)
                try CMSAlgorithmIdentifier(mac.hmacOID, parameters: [0x05, 0x00]).serialize(into: &sequence)
            }
            return CMSAlgorithmIdentifier(CMPObjectIdentifiers.pbmac1, parameters: coder.serializedBytes)
        }
    }

    /// The MAC key PBKDF2 derives from `secret`; the caller wipes it when done.
    public func key(secret: [UInt8]) throws -> [UInt8] {
        let function: KDF.Insecure.PBKDF2.HashFunction =
            switch pseudoRandomFunction {
            case .sha1: .insecureSHA1
            case .sha256: .sha256
            case .sha384: .sha384
            case .sha512: .sha512
            }
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: secret,
            salt: salt,
            using: function,
            outputByteCount: keyLength,
            unsafeUncheckedRounds: iterations
        )
        return key.withUnsafeBytes { Array($0) }
    }

    /// The MAC of `data` under the key PBKDF2 derives from `secret`.
    public func authenticationCode(secret: [UInt8], data: [UInt8]) throws -> [UInt8] {
        var derived = try key(secret: secret)
        defer { wipe(&derived) }
        return mac.hmac(key: derived, data: data)
    }
}
