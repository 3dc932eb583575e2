import Codecs
import Crypto
import Foundation
import _CryptoExtras

/// An account's public key as a JSON Web Key (RFC 7517), of the kinds ACME accounts use: EC P-256 and
/// P-384 (RFC 7518 section 6.2), RSA of 2048 bits or more (section 6.3), and Ed25519 (RFC 8037).
public enum JWK: Sendable, Hashable {
    case p256(x: [UInt8], y: [UInt8])
    case p384(x: [UInt8], y: [UInt8])
    case rsa(n: [UInt8], e: [UInt8])
    case ed25519(x: [UInt8])

    /// Reads a JWK object (a JSON object as `JSONSerialization` gives it). Only the members that define
    /// the key are read; a private member (`d`) makes it refused, since a client must never send one.
    public init(json: [String: Any]) throws(ACMEProblem) {
        func member(_ name: String) throws(ACMEProblem) -> [UInt8] {
            guard let text = json[name] as? String, let bytes = Base64URL.decode(text), !bytes.isEmpty else {
                throw ACMEProblem(.malformed, "the JWK's \"\(name)\" is missing or not base64url")
            }
            return bytes
        }
        guard json["d"] == nil else { throw ACMEProblem(.malformed, "the JWK holds a private key") }
        switch (json["kty"] as? String, json["crv"] as? String) {
        case ("EC", "P-256"):
            self = .p256(x: try member("x"), y: try member("y"))
        case ("EC", "P-384"):
            self = .p384(x: try member("x"), y: try member("y"))
        case ("RSA", _):
            self = .rsa(n: Array(try member("n").drop { $0 == 0 }), e: try member("e"))
        case ("OKP", "Ed25519"):
            self = .ed25519(x: try member("x"))
        case (let kty, let crv):
            throw ACMEProblem(
                .badPublicKey,
                "JWK of kty \(kty ?? "(none)")\(crv.map { " crv \($0)" } ?? "") is not EC P-256/P-384, RSA or Ed25519"
            )
        }
        _ = try verifier()  // the key itself must be valid (a point on the curve, RSA ≥ 2048)
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, without white
    /// space, base64url (what key authorizations and account lookups use).
    public var thumbprint: String { Base64URL.encode(Array(SHA256.hash(data: Array(canonicalJSON.utf8)))) }

    /// The required members as RFC 7638 section 3.2 orders them.
    public var canonicalJSON: String {
        switch self {
        case .p256(let x, let y):
            #"{"crv":"P-256","kty":"EC","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        case .p384(let x, let y):
            #"{"crv":"P-384","kty":"EC","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        case .rsa(let n, let e):
            #"{"e":"\#(Base64URL.encode(e))","kty":"RSA","n":"\#(Base64URL.encode(n))"}"#
        case .ed25519(let x):
            #"{"crv":"Ed25519","kty":"OKP","x":"\#(Base64URL.encode(x))"}"#
        }
    }

    /// The JWS algorithms this key signs with.
    public var algorithms: Set<String> {
        switch self {
        case .p256: ["ES256"]
        case .p384: ["ES384"]
        case .rsa: ["RS256"]
        case .ed25519: ["EdDSA"]
        }
    }

    /// Whether `signature` is this key's signature with `algorithm` over `input` (RFC 7518 section 3:
    /// ECDSA as r‖s of the curve's size; RSASSA-PKCS1-v1_5 with SHA-256; Ed25519).
    public func isValidSignature(_ signature: [UInt8], for input: [UInt8], algorithm: String) -> Bool {
        guard algorithms.contains(algorithm), let verify = try? verifier() else { return false }
        return verify(signature, input)
    }

    private func verifier() throws(ACMEProblem) -> @Sendable ([UInt8], [UInt8]) -> Bool {
        do {
            switch self {
            case .p256(let x, let y):
                guard x.count == 32, y.count == 32 else {
                    throw ACMEProblem(.badPublicKey, "a P-256 point has 32-byte coordinates")
                }
                let key = try P256.Signing.PublicKey(rawRepresentation: x + y)
                return { signature, input in
                    guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else {
                        return false
                    }
                    return key.isValidSignature(parsed, for: input)
                }
            case .p384(let x, let y):
                guard x.count == 48, y.count == 48 else {
                    throw ACMEProblem(.badPublicKey, "a P-384 point has 48-byte coordinates")
                }
                let key = try P384.Signing.PublicKey(rawRepresentation: x + y)
                return { signature, input in
                    guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else {
                        return false
                    }
                    return key.isValidSignature(parsed, for: input)
                }
            case .rsa(let n, let e):
                let key = try _RSA.Signing.PublicKey(n: n, e: e)
                guard key.keySizeInBits >= 2048 else {
                    throw ACMEProblem(.badPublicKey, "an RSA account key has 2048 bits or more")
                }
                return { signature, input in
                    key.isValidSignature(
                        _RSA.Signing.RSASignature(rawRepresentation: signature),
                        for: SHA256.hash(data: input),
                        padding: .insecurePKCS1v1_5
                    )
                }
            case .ed25519(let x):
                let key = try Curve25519.Signing.PublicKey(rawRepresentation: x)
                return { signature, input in key.isValidSignature(signature, for: input) }
            }
        } catch let problem as ACMEProblem {
            throw problem
        } catch {
            throw ACMEProblem(.badPublicKey, "the JWK is not a valid public key: \(error)")
        }
    }
}

extension JWK {
    /// The JWK of an EC P-256 or P-384 public key given as SubjectPublicKeyInfo DER: an account key that
    /// Custos holds in its HSM when it is itself an ACME client (toward an upstream CA).
    public init(subjectPublicKeyInfo der: [UInt8]) throws(ACMEProblem) {
        if let key = try? P256.Signing.PublicKey(derRepresentation: der) {
            let point = Array(key.rawRepresentation)
            self = .p256(x: Array(point.prefix(32)), y: Array(point.suffix(32)))
        } else if let key = try? P384.Signing.PublicKey(derRepresentation: der) {
            let point = Array(key.rawRepresentation)
            self = .p384(x: Array(point.prefix(48)), y: Array(point.suffix(48)))
        } else {
            throw ACMEProblem(.badPublicKey, "an account key Custos signs with is EC P-256 or P-384")
        }
    }
}
