public import CustosX509
public import X509

/// How a message is protected (RFC 9810 section 5.1.3, RFC 9481 section 6): a MAC under a shared secret
/// or a signature by the sender's certificate.
public enum MessageProtection: Sendable, Hashable {
    case passwordBasedMAC(PasswordBasedMAC)
    case pbmac1(PBMAC1)
    case signature(Certificate.SignatureAlgorithm)

    public init(_ algorithm: CMSAlgorithmIdentifier) throws(CMPError) {
        switch algorithm.algorithm {
        case CMPObjectIdentifiers.passwordBasedMAC:
            self = .passwordBasedMAC(try PasswordBasedMAC(parameters: algorithm.parameters))
        case CMPObjectIdentifiers.pbmac1: self = .pbmac1(try PBMAC1(parameters: algorithm.parameters))
        default:
            guard let signature = algorithm.signatureAlgorithm else {
                throw CMPError(.badAlg, "protection algorithm \(algorithm.algorithm) is not supported")
            }
            self = .signature(signature)
        }
    }

    /// The protectionAlg for a MAC (signature algorithms are named by their signer).
    public var algorithmIdentifier: CMSAlgorithmIdentifier {
        get throws {
            switch self {
            case .passwordBasedMAC(let mac): return try mac.algorithmIdentifier
            case .pbmac1(let mac): return try mac.algorithmIdentifier
            case .signature: throw CMPError(.badAlg, "a signature's algorithm is named by its signer")
            }
        }
    }

    public var isMAC: Bool { if case .signature = self { false } else { true } }

    /// The MAC key these parameters derive from `secret` (nil for signature protection): a message and
    /// its answer with the same parameters share it. The caller wipes it when done.
    public func key(secret: [UInt8]) throws -> [UInt8]? {
        switch self {
        case .passwordBasedMAC(let mac): mac.key(secret: secret)
        case .pbmac1(let mac): try mac.key(secret: secret)
        case .signature: nil
        }
    }

    /// The MAC of `data` under a key `key(secret:)` derived (nil for signature protection).
    public func authenticationCode(key: [UInt8], data: [UInt8]) -> [UInt8]? {
        switch self {
        case .passwordBasedMAC(let mac): mac.mac.hmac(key: key, data: data)
        case .pbmac1(let mac): mac.mac.hmac(key: key, data: data)
        case .signature: nil
        }
    }

    /// The MAC of `data` under `secret` (nil for signature protection).
    public func authenticationCode(secret: [UInt8], data: [UInt8]) throws -> [UInt8]? {
        switch self {
        case .passwordBasedMAC(let mac): mac.authenticationCode(secret: secret, data: data)
        case .pbmac1(let mac): try mac.authenticationCode(secret: secret, data: data)
        case .signature: nil
        }
    }
}

extension PKIMessage {
    /// The message's protection as its header names it; throws `badMessageCheck` when it has none.
    public func messageProtection() throws(CMPError) -> MessageProtection {
        guard let algorithm = header.protectionAlgorithm, protection != nil else {
            throw CMPError(.badMessageCheck, "the message is not protected")
        }
        return try MessageProtection(algorithm)
    }

    /// Checks a MAC protection with `secret`; throws `badMessageCheck` when it does not match.
    public func verifyMAC(secret: [UInt8]) throws(CMPError) {
        let kind = try messageProtection()
        let expected: [UInt8]?
        do { expected = try kind.authenticationCode(secret: secret, data: protectedPart) } catch {
            throw CMPError(.badAlg, "the MAC cannot be computed: \(error)")
        }
        guard let expected, let protection, constantTimeEqual(expected, protection) else {
            throw CMPError(.badMessageCheck, "the MAC does not verify with the shared secret")
        }
    }

    /// Checks a MAC protection with a key derived from the shared secret with this message's parameters
    /// (`MessageProtection.key(secret:)`); throws `badMessageCheck` when it does not match.
    public func verifyMAC(key: [UInt8]) throws(CMPError) {
        guard let expected = try messageProtection().authenticationCode(key: key, data: protectedPart),
            let protection, constantTimeEqual(expected, protection)
        else { throw CMPError(.badMessageCheck, "the MAC does not verify with the shared secret") }
    }

    /// Checks a signature protection with `certificate`'s key; throws `badMessageCheck` when it does not
    /// verify.
    public func verifySignature(certificate: Certificate) throws(CMPError) {
        guard case .signature(let algorithm) = try messageProtection(), let protection else {
            throw CMPError(.badMessageCheck, "the message is not signed")
        }
        guard certificate.publicKey.isValidSignature(protection, for: protectedPart, signatureAlgorithm: algorithm)
        else {
            throw CMPError(.badMessageCheck, "the signature does not verify with the signer's certificate")
        }
    }

    /// The extraCerts parsed (signer first); throws `badDataFormat` for one that is no certificate.
    public func extraCertificates() throws(CMPError) -> [Certificate] {
        try extraCerts.map { der throws(CMPError) in
            try parsing("an extraCerts certificate") { try Certificate(derEncoded: der) }
        }
    }
}

/// Compares two MACs or hashes in time that does not depend on where they differ.
public func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
    guard left.count == right.count else { return false }
    var difference: UInt8 = 0
    for index in left.indices { difference |= left[index] ^ right[index] }
    return difference == 0
}
