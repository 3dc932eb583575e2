/// How a signature is made: the algorithm family, the hash, and its parameters.
public enum SignatureScheme: Sendable, Hashable {
    /// ECDSA over a host-computed digest (`CKM_ECDSA`); the token returns raw r‖s.
    case ecdsa(HashAlgorithm)
    /// RSASSA-PKCS1-v1_5: the host builds `DigestInfo`, the token pads and signs (`CKM_RSA_PKCS`).
    case rsaPKCS1v15(HashAlgorithm)
    /// RSASSA-PSS over a host-computed digest (`CKM_RSA_PKCS_PSS`), MGF1 with the same hash.
    case rsaPSS(HashAlgorithm, saltLength: Int)
    /// Ed25519 (`CKM_EDDSA`), over the message itself: it cannot sign a digest.
    case ed25519

    /// The hash, if the scheme uses one chosen by the caller.
    public var hash: HashAlgorithm? {
        switch self {
        case .ecdsa(let hash), .rsaPKCS1v15(let hash), .rsaPSS(let hash, _): hash
        case .ed25519: nil
        }
    }

    /// Whether keys of `algorithm` can sign with this scheme.
    public func isCompatible(with algorithm: KeyAlgorithm) -> Bool {
        switch (self, algorithm.keyType) {
        case (.ecdsa, .ec), (.rsaPKCS1v15, .rsa), (.rsaPSS, .rsa), (.ed25519, .ecEdwards): true
        default: false
        }
    }
}

/// What is signed: a message, hashed on the host when the scheme needs a digest, or a digest
/// computed by the caller.
public enum SigningInput: Sendable, Hashable {
    case message([UInt8])
    case digest([UInt8])
}

extension SignatureScheme {
    /// The mechanism and the bytes to hand to `C_Sign`/`C_Verify` for `input`.
    public func prepare(_ input: SigningInput) throws(PKCS11Error) -> (mechanism: Mechanism, data: [UInt8]) {
        switch self {
        case .ed25519:
            guard case .message(let message) = input else {
                throw PKCS11Error(code: .invalidArgument, reason: "Ed25519 signs the message itself, not a digest")
            }
            return (Mechanism(.eddsa), message)
        case .ecdsa(let hash):
            return (Mechanism(.ecdsa), try digest(input, hash))
        case .rsaPKCS1v15(let hash):
            return (Mechanism(.rsaPKCS), hash.digestInfoPrefix + (try digest(input, hash)))
        case .rsaPSS(let hash, let saltLength):
            guard saltLength >= 0 && saltLength <= 512 else {
                throw PKCS11Error(code: .invalidArgument, reason: "PSS salt length \(saltLength) is out of range")
            }
            let mechanism = Mechanism(.rsaPKCSPSS, .pss(hash: hash.mechanism, mgf: hash.mgf1, saltLength: saltLength))
            return (mechanism, try digest(input, hash))
        }
    }

    private func digest(_ input: SigningInput, _ hash: HashAlgorithm) throws(PKCS11Error) -> [UInt8] {
        switch input {
        case .message(let message):
            return hash.digest(message)
        case .digest(let digest):
            guard digest.count == hash.byteCount else {
                throw PKCS11Error(
                    code: .invalidArgument,
                    reason: "a \(hash.rawValue) digest has \(hash.byteCount) bytes, got \(digest.count)"
                )
            }
            return digest
        }
    }
}
