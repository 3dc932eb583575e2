import ACME
import Codecs
import CustosTestSupport
import Foundation
import Testing

/// The JWK Custos sends for an account key it holds (its RA key toward an upstream ACME CA), compared
/// with what Python's `cryptography` and josepy make of the same key: equal members and RFC 7638
/// thumbprint, and a signature made with the key verifies under the JWK.
@Suite struct JWKFromKeyTests {
    @Test(arguments: ["P-256", "P-384"]) func aKeysJWKIsWhatJosepyMakesOfIt(curve: String) throws {
        let script = #"""
            import base64, json, sys
            import josepy as jose
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, utils
            curve = ec.SECP256R1() if sys.argv[1] == "P-256" else ec.SECP384R1()
            key = ec.generate_private_key(curve)
            spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            jwk = jose.JWKEC(key=key.public_key())
            hash = hashes.SHA256() if sys.argv[1] == "P-256" else hashes.SHA384()
            r, s = utils.decode_dss_signature(key.sign(b"signed input", ec.ECDSA(hash)))
            size = 32 if sys.argv[1] == "P-256" else 48
            signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
            b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
            print(json.dumps({"spki": b64(spki), "jwk": jwk.to_partial_json(), "thumbprint": b64(jwk.thumbprint()),
                              "signature": b64(signature)}))
            """#
        let result = try runCommand("/usr/bin/python3", ["-c", script, curve])
        try #require(result.status == 0, "\(result.stderr)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let spkiText = try #require(answer["spki"] as? String)
        let spki = try #require(Base64URL.decode(spkiText))
        let jwk = try JWK(subjectPublicKeyInfo: spki)
        let members = try #require(answer["jwk"] as? [String: Any])
        #expect(jwk == (try JWK(json: members)))
        #expect(jwk.thumbprint == answer["thumbprint"] as? String)
        let signatureText = try #require(answer["signature"] as? String)
        let signature = try #require(Base64URL.decode(signatureText))
        let algorithm = curve == "P-256" ? "ES256" : "ES384"
        #expect(jwk.isValidSignature(signature, for: Array("signed input".utf8), algorithm: algorithm))
        // A key of another kind is not an account key Custos signs with.
        #expect(throws: ACMEProblem.self) { try JWK(subjectPublicKeyInfo: Array(spki.dropLast())) }
    }
}
