import ACME
import Codecs
import CustosTestSupport
import Foundation
import Testing

/// ACME request bodies as real clients make them: JWS signed by certbot's own library (`acme.jws` over
/// `josepy`, Debian's python3-acme) with ES256, ES384 and RS256 keys, and EdDSA made with Python's
/// `cryptography`; read here, their signatures verified, and their RFC 7638 thumbprints equal to what
/// josepy computes. Then what a server must refuse.
@Suite struct JWSTests {
    static let script = #"""
        import base64, hashlib, json
        import josepy as jose
        from acme import jws as acme_jws
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa, ed25519

        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        cases = []
        payload = json.dumps({"termsOfServiceAgreed": True, "contact": ["mailto:ops@example.com"]}).encode()
        for alg, key, wrap in [
            (jose.ES256, ec.generate_private_key(ec.SECP256R1()), jose.JWKEC),
            (jose.ES384, ec.generate_private_key(ec.SECP384R1()), jose.JWKEC),
            (jose.RS256, rsa.generate_private_key(public_exponent=65537, key_size=2048), jose.JWKRSA),
        ]:
            jwk = wrap(key=key)
            signed = acme_jws.JWS.sign(payload, key=jwk, alg=alg, nonce=b"nonce-1", url="https://acme.test/new-account")
            cases.append({"alg": alg.name, "body": json.dumps(signed.to_partial_json()),
                          "thumbprint": b64(jwk.public_key().thumbprint())})
            by_kid = acme_jws.JWS.sign(b"", key=jwk, alg=alg, nonce=b"nonce-2", url="https://acme.test/order/1",
                                       kid="https://acme.test/account/7")
            cases.append({"alg": alg.name, "body": json.dumps(by_kid.to_partial_json()), "kid": "https://acme.test/account/7"})

        key = ed25519.Ed25519PrivateKey.generate()
        x = b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        header = {"alg": "EdDSA", "nonce": "nonce-3", "url": "https://acme.test/new-account",
                  "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}}
        protected = b64(json.dumps(header).encode())
        body_payload = b64(payload)
        signature = b64(key.sign((protected + "." + body_payload).encode()))
        canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
        cases.append({"alg": "EdDSA", "body": json.dumps({"protected": protected, "payload": body_payload, "signature": signature}),
                      "thumbprint": b64(hashlib.sha256(canonical.encode()).digest())})
        print(json.dumps(cases))
        """#

    @Test func clientsJWSReadAndVerify() throws {
        let directory = try makeTemporaryDirectory("jws")
        try Self.script.write(toFile: "\(directory)/make.py", atomically: true, encoding: .utf8)
        // Debian's python3-acme lives in the system Python.
        let made = try runCommand("/usr/bin/python3", ["make.py"], currentDirectory: directory)
        try #require(made.status == 0, "\(made.stderr)")
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [[String: String]])
        #expect(cases.count == 7)
        var keys: [String: JWK] = [:]
        for example in cases {
            let algorithm = example["alg"]!
            let jws = try JWS(body: Array(example["body"]!.utf8))
            #expect(jws.algorithm == algorithm)
            switch jws.signer {
            case .key(let jwk):
                // acme.jws sends its nonce bytes base64url-encoded, as servers hand nonces out.
                #expect(jws.nonce == Base64URL.encode(Array("nonce-1".utf8)) || jws.nonce == "nonce-3")
                #expect(jwk.thumbprint == example["thumbprint"], "\(algorithm)")
                #expect(jws.isSigned(by: jwk), "\(algorithm)")
                let payload = try JSONSerialization.jsonObject(with: Data(jws.payload)) as? [String: Any]
                #expect(payload?["termsOfServiceAgreed"] as? Bool == true)
                // A changed byte of the signed input, or another algorithm's name, does not verify.
                var changed = jws.signingInput
                changed[changed.count - 1] ^= 1
                #expect(!jwk.isValidSignature(jws.signature, for: changed, algorithm: algorithm))
                #expect(
                    !jwk.isValidSignature(jws.signature, for: jws.signingInput, algorithm: "RS256")
                        || algorithm == "RS256"
                )
                keys[algorithm] = jwk
            case .account(let kid):
                #expect(kid == example["kid"] && jws.nonce == Base64URL.encode(Array("nonce-2".utf8)))
                #expect(jws.payload.isEmpty)
                #expect(jws.url == "https://acme.test/order/1")
                if let jwk = keys[algorithm] { #expect(jws.isSigned(by: jwk), "\(algorithm) by kid") }
            }
        }
        // A key of one client does not verify another's signature.
        #expect(keys.count == 4)
        let es256 = try JWS(body: Array(cases[0]["body"]!.utf8))
        #expect(!es256.isSigned(by: keys["ES384"]!) && !es256.isSigned(by: keys["RS256"]!))
    }

    @Test func whatIsNotAnACMEJWSIsRefusedWithItsProblem() throws {
        func body(_ header: [String: Any], payload: String = "e30", signature: String = "c2ln") -> [UInt8] {
            let protected = Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: header)))
            return Array(
                try! JSONSerialization.data(withJSONObject: [
                    "protected": protected, "payload": payload, "signature": signature,
                ])
            )
        }
        let jwk: [String: Any] = [
            "kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode([UInt8](repeating: 7, count: 32)),
        ]
        let base: [String: Any] = ["alg": "EdDSA", "nonce": "n", "url": "https://a/x", "jwk": jwk]
        func with(_ changes: [String: Any?]) -> [String: Any] {
            var header = base
            for (name, value) in changes { header[name] = value }
            return header
        }
        let cases: [(String, [UInt8], ACMEProblem.Kind)] = [
            ("not JSON", Array("garbage".utf8), .malformed),
            ("compact serialization", Array("eyJh.e30.c2ln".utf8), .malformed),
            ("alg none", body(with(["alg": "none"])), .badSignatureAlgorithm),
            ("alg HS256", body(with(["alg": "HS256"])), .badSignatureAlgorithm),
            ("no nonce", body(with(["nonce": nil])), .badNonce),
            ("no url", body(with(["url": nil])), .malformed),
            ("jwk and kid", body(with(["kid": "https://a/acct/1"])), .malformed),
            ("neither jwk nor kid", body(with(["jwk": nil])), .malformed),
            ("a private key", body(with(["jwk": jwk.merging(["d": "AAAA"]) { $1 }])), .malformed),
            (
                "an RSA key of 1024 bits",
                body(
                    with([
                        "alg": "RS256",
                        "jwk": [
                            "kty": "RSA", "n": Base64URL.encode([0xC1] + [UInt8](repeating: 3, count: 127)),
                            "e": "AQAB",
                        ],
                    ])
                ), .badPublicKey
            ),
            (
                "a point off the curve",
                body(
                    with([
                        "alg": "ES256",
                        "jwk": [
                            "kty": "EC", "crv": "P-256", "x": Base64URL.encode([UInt8](repeating: 1, count: 32)),
                            "y": Base64URL.encode([UInt8](repeating: 2, count: 32)),
                        ],
                    ])
                ), .badPublicKey
            ),
            ("padded base64", body(base, payload: "e30="), .malformed),
            ("an empty signature", body(base, signature: ""), .malformed),
        ]
        for (what, bytes, kind) in cases {
            #expect(throws: ACMEProblem.self, "\(what)") { try JWS(body: bytes) }
            do { _ = try JWS(body: bytes) } catch { #expect(error.kind == kind, "\(what): \(error)") }
        }
        let problem = ACMEProblem(.badNonce, "used before")
        let json = try JSONSerialization.jsonObject(with: Data(problem.json)) as? [String: Any]
        #expect(json?["type"] as? String == "urn:ietf:params:acme:error:badNonce" && json?["status"] as? Int == 400)
    }
}
