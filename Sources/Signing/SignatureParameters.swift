public import PKCS11

/// How a signature is to be encoded. ECDSA only: the token produces raw r‖s; most verifiers
/// (openssl, X.509, CMS) want DER.
public enum SignatureEncoding: String, Sendable, CaseIterable {
    case der, raw
}

/// A caller's choice of scheme, hash, PSS salt and encoding, by name, as the API receives it. Each
/// part may be left out: the key's algorithm supplies the default.
public struct SignatureParameters: Sendable, Hashable {
    /// `ecdsa`, `rsa-pkcs1`, `rsa-pss` or `ed25519`.
    public var scheme: String?
    /// `sha256`, `sha384` or `sha512`.
    public var hash: String?
    /// RSA-PSS salt length in bytes (default: the hash length).
    public var saltLength: Int?
    /// `der` (default) or `raw`, for ECDSA.
    public var encoding: String?

    public init(scheme: String? = nil, hash: String? = nil, saltLength: Int? = nil, encoding: String? = nil) {
        self.scheme = scheme
        self.hash = hash
        self.saltLength = saltLength
        self.encoding = encoding
    }

    /// Fills gaps from `defaults` (a batch's top-level choices).
    public func merged(over defaults: SignatureParameters) -> SignatureParameters {
        SignatureParameters(
            scheme: scheme ?? defaults.scheme,
            hash: hash ?? defaults.hash,
            saltLength: saltLength ?? defaults.saltLength,
            encoding: encoding ?? defaults.encoding
        )
    }

    /// The scheme and encoding for a key of `algorithm`.
    public func resolve(for algorithm: KeyAlgorithm) throws(SigningError) -> (SignatureScheme, SignatureEncoding) {
        let defaultScheme = algorithm.defaultScheme
        var hashAlgorithm = defaultScheme.hash
        if let hash {
            guard let parsed = HashAlgorithm(rawValue: hash) else {
                throw SigningError(.unsupportedScheme, "unknown hash \"\(hash)\" (sha256, sha384 or sha512)")
            }
            hashAlgorithm = parsed
        }
        let name = scheme ?? defaultScheme.name
        let resolved: SignatureScheme
        switch name {
        case "ecdsa": resolved = .ecdsa(hashAlgorithm ?? .sha256)
        case "rsa-pkcs1": resolved = .rsaPKCS1v15(hashAlgorithm ?? .sha256)
        case "rsa-pss":
            let hash = hashAlgorithm ?? .sha256
            let salt = saltLength ?? hash.byteCount
            guard (0...512).contains(salt) else {
                throw SigningError(.invalidInput, "saltLength \(salt) is out of range (0 to 512)")
            }
            resolved = .rsaPSS(hash, saltLength: salt)
        case "ed25519":
            guard hash == nil else {
                throw SigningError(.unsupportedScheme, "Ed25519 hashes with SHA-512 itself; give no hash")
            }
            resolved = .ed25519
        default:
            throw SigningError(.unsupportedScheme, "unknown scheme \"\(name)\" (ecdsa, rsa-pkcs1, rsa-pss, ed25519)")
        }
        guard resolved.isCompatible(with: algorithm) else {
            throw SigningError(.unsupportedScheme, "a \(algorithm.rawValue) key cannot sign with \(name)")
        }
        if saltLength != nil, case .rsaPSS = resolved {
        } else if saltLength != nil {
            throw SigningError(.invalidInput, "saltLength applies to rsa-pss only")
        }
        var parsedEncoding = SignatureEncoding.der
        if let encoding {
            guard let value = SignatureEncoding(rawValue: encoding) else {
                throw SigningError(.invalidInput, "unknown signatureFormat \"\(encoding)\" (der or raw)")
            }
            guard case .ecdsa = resolved else {
                throw SigningError(.invalidInput, "signatureFormat applies to ecdsa only")
            }
            parsedEncoding = value
        }
        return (resolved, parsedEncoding)
    }
}

extension SignatureScheme {
    /// The scheme's API name.
    public var name: String {
        switch self {
        case .ecdsa: "ecdsa"
        case .rsaPKCS1v15: "rsa-pkcs1"
        case .rsaPSS: "rsa-pss"
        case .ed25519: "ed25519"
        }
    }
}
