import Codecs
import Foundation

/// A request body of ACME (RFC 8555 section 6.2): a JWS in the flattened JSON serialization
/// (RFC 7515 section 7.2.2) whose protected header names the algorithm, the nonce, the URL, and the
/// signer either by its key (`jwk`, for newAccount and revocation by certificate key) or by its account
/// URL (`kid`), never both. Read here; the signature is checked against the key the caller settles on.
public struct JWS: Sendable {
    /// Who signed: a key given in the header, or an account URL.
    public enum Signer: Sendable, Hashable {
        case key(JWK)
        case account(String)
    }

    /// The algorithms Custos accepts (RFC 8555 section 6.2: ES256 MUST, EdDSA SHOULD; RS256 and ES384 as
    /// certbot and lego send them). `none` and MACs are refused.
    public static let algorithms: Set<String> = ["ES256", "ES384", "RS256", "EdDSA"]

    public let algorithm: String
    /// Nil only in the inner JWS of a key change, which has none.
    public let nonce: String?
    public let url: String
    public let signer: Signer
    /// The payload's bytes; empty for POST-as-GET.
    public let payload: [UInt8]
    /// What the signature covers: `protected || '.' || payload`, both base64url as sent.
    public let signingInput: [UInt8]
    public let signature: [UInt8]

    /// Reads a request body. Throws `malformed` for anything that is not such a JWS, and
    /// `badSignatureAlgorithm` for algorithms outside `algorithms`. `inner` reads the inner JWS of a key
    /// change (RFC 8555 section 7.3.5), which names its key by `jwk` and has no nonce.
    public init(body: [UInt8], inner: Bool = false) throws(ACMEProblem) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ACMEProblem(.malformed, "the body is not a JSON object")
        }
        guard let protected = object["protected"] as? String, let payload = object["payload"] as? String,
            let signature = object["signature"] as? String
        else {
            throw ACMEProblem(.malformed, "a JWS has \"protected\", \"payload\" and \"signature\" (flattened JSON)")
        }
        guard object["header"] == nil, object["signatures"] == nil else {
            throw ACMEProblem(.malformed, "a JWS has one signature and no unprotected header")
        }
        guard let headerBytes = Base64URL.decode(protected),
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any]
        else { throw ACMEProblem(.malformed, "the protected header is not base64url JSON") }
        guard let payloadBytes = payload.isEmpty ? [] : Base64URL.decode(payload) else {
            throw ACMEProblem(.malformed, "the payload is not base64url")
        }
        guard let signatureBytes = Base64URL.decode(signature), !signatureBytes.isEmpty else {
            throw ACMEProblem(.malformed, "the signature is not base64url")
        }
        guard let algorithm = header["alg"] as? String else {
            throw ACMEProblem(.malformed, "the header has no \"alg\"")
        }
        guard Self.algorithms.contains(algorithm) else {
            throw ACMEProblem(
                .badSignatureAlgorithm,
                "algorithm \(algorithm) is not one of " + Self.algorithms.sorted().joined(separator: ", ")
            )
        }
        let nonce = header["nonce"] as? String
        if inner {
            guard header["nonce"] == nil else {
                throw ACMEProblem(.malformed, "the inner JWS of a key change has no \"nonce\"")
            }
        } else if nonce?.isEmpty != false {
            throw ACMEProblem(.badNonce, "the header has no \"nonce\"")
        }
        guard let url = header["url"] as? String, !url.isEmpty else {
            throw ACMEProblem(.malformed, "the header has no \"url\"")
        }
        switch (header["jwk"], header["kid"]) {
        case (let jwk as [String: Any], nil):
            signer = .key(try JWK(json: jwk))
        case (nil, let kid as String):
            signer = .account(kid)
        default:
            throw ACMEProblem(.malformed, "the header names its signer by exactly one of \"jwk\" and \"kid\"")
        }
        self.algorithm = algorithm
        self.nonce = nonce
        self.url = url
        self.payload = payloadBytes
        self.signingInput = Array(protected.utf8) + [UInt8(ascii: ".")] + Array(payload.utf8)
        self.signature = signatureBytes
    }

    /// Whether `key` made the signature with the header's algorithm.
    public func isSigned(by key: JWK) -> Bool {
        key.isValidSignature(signature, for: signingInput, algorithm: algorithm)
    }
}
