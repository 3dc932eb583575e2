import Crypto
import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// Signing over real HTTP; every signature is checked by openssl against the key's public key as the
/// API reports it.
@Suite(.serialized, .stopsServers) struct SigningAPITests {
    /// One case: key algorithm, request fields, and the openssl arguments that verify the result.
    struct Case: CustomStringConvertible {
        var algorithm: String
        var fields: [String: Any]
        /// openssl dgst options (hash and padding); nil for Ed25519 (pkeyutl -rawin).
        var dgst: [String]?
        var description: String { "\(algorithm) \(fields)" }
    }

    static var cases: [Case] {
        [
            Case(algorithm: "ec-p256", fields: [:], dgst: ["-sha256"]),
            Case(algorithm: "ec-p384", fields: ["hash": "sha384"], dgst: ["-sha384"]),
            Case(algorithm: "ec-p521", fields: ["hash": "sha512"], dgst: ["-sha512"]),
            Case(algorithm: "rsa-2048", fields: [:], dgst: ["-sha256"]),
            Case(algorithm: "rsa-3072", fields: ["scheme": "rsa-pkcs1", "hash": "sha384"], dgst: ["-sha384"]),
            Case(
                algorithm: "rsa-4096",
                fields: ["scheme": "rsa-pss", "hash": "sha256", "saltLength": 32],
                dgst: ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
            ),
            Case(
                algorithm: "rsa-2048",
                fields: ["scheme": "rsa-pss", "hash": "sha512"],
                dgst: ["-sha512", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:64"]
            ),
            Case(algorithm: "ed25519", fields: [:], dgst: nil),
        ]
    }

    @Test func everyAlgorithmAndSchemeVerifiesWithOpenSSL() async throws {
        let server = try await ServerFixture()
        let signer = try await server.credential(.signer, keys: ["k-*"])
        let message = Data("firmware image 4.2.0 for line 7".utf8)
        let directory = try makeTemporaryDirectory("custos-openssl")
        let messagePath = try writeFile(directory, "message", message)
        for (index, testCase) in Self.cases.enumerated() {
            let name = "k-\(index)"
            let created = try await server.createKey(name, testCase.algorithm)
            let publicKeyPath = try writeFile(
                directory,
                "\(name).pem",
                Data((created.json["publicKey"] as! String).utf8)
            )

            // Raw data, hashed on the server.
            var fields = testCase.fields
            fields["data"] = message.base64EncodedString()
            let byData = try await server.request("POST", "/v1/keys/\(name)/sign", token: signer, json: fields)
            #expect(byData.status == 200, "\(testCase): \(byData.text)")
            let signaturePath = try writeFile(directory, "\(name).sig", try Data(base64: byData.json["signature"]))
            #expect(try opensslVerifies(testCase, publicKeyPath, signaturePath, messagePath), "\(testCase)")

            // A tampered message fails the same check: the check itself can fail.
            let other = try writeFile(directory, "other", Data("firmware image 4.2.1 for line 7".utf8))
            #expect(try !opensslVerifies(testCase, publicKeyPath, signaturePath, other), "\(testCase)")

            // A caller's digest (all but Ed25519, which signs messages only).
            guard testCase.dgst != nil else {
                fields["data"] = nil
                fields["digest"] = Data(SHA256.hash(data: message)).base64EncodedString()
                let refused = try await server.request("POST", "/v1/keys/\(name)/sign", token: signer, json: fields)
                #expect(refused.status == 400 && refused.errorCode == "invalid_input", "\(refused.text)")
                continue
            }
            let hash = HashAlgorithm(rawValue: fields["hash"] as? String ?? "sha256")!
            fields["data"] = nil
            fields["digest"] = Data(hash.digest(Array(message))).base64EncodedString()
            let byDigest = try await server.request("POST", "/v1/keys/\(name)/sign", token: signer, json: fields)
            #expect(byDigest.status == 200, "\(testCase): \(byDigest.text)")
            let digestSignature = try writeFile(directory, "\(name).dsig", try Data(base64: byDigest.json["signature"]))
            #expect(try opensslVerifies(testCase, publicKeyPath, digestSignature, messagePath), "\(testCase)")
        }
    }

    @Test func ecdsaRawSignaturesAreRSConcatenated() async throws {
        let server = try await ServerFixture()
        let created = try await server.createKey("raw", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["raw"])
        let message = Data("raw".utf8)
        let result = try await server.request(
            "POST",
            "/v1/keys/raw/sign",
            token: signer,
            json: ["data": message.base64EncodedString(), "signatureFormat": "raw"]
        )
        let signature = try Data(base64: result.json["signature"])
        #expect(signature.count == 64)
        let key = try P256.Signing.PublicKey(pemRepresentation: created.json["publicKey"] as! String)
        #expect(key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: message))
    }

    @Test func aBatchOfAThousandSignsGoodItemsAndReportsBadOnes() async throws {
        let server = try await ServerFixture()
        let created = try await server.createKey("line", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["line"])
        let key = try P256.Signing.PublicKey(pemRepresentation: created.json["publicKey"] as! String)
        var items: [Any] = []
        var expected: [String?] = []  // nil: a good item; otherwise the error code it must carry
        var digests: [Data] = []
        for index in 0..<1000 {
            let digest = Data(SHA256.hash(data: Data("unit \(index)".utf8)))
            digests.append(digest)
            switch index % 50 {
            case 7:
                items.append(["digest": "***not base64***", "reference": "r\(index)"])
                expected.append("invalid_input")
            case 19:
                items.append(["digest": digest.prefix(20).base64EncodedString(), "reference": "r\(index)"])
                expected.append("invalid_digest")
            case 23:
                items.append(42)
                expected.append("invalid_input")
            case 31:
                items.append(["digest": digest.base64EncodedString(), "hash": "md5", "reference": "r\(index)"])
                expected.append("unsupported_scheme")
            default:
                items.append(["digest": digest.base64EncodedString(), "reference": "r\(index)"])
                expected.append(nil)
            }
        }
        let result = try await server.request("POST", "/v1/keys/line/sign", token: signer, json: ["items": items])
        #expect(result.status == 200, "\(result.text.prefix(300))")
        let results = try #require(result.json["results"] as? [[String: Any]])
        #expect(results.count == 1000)
        var good = 0
        for (index, item) in results.enumerated() {
            if index % 50 != 23 { #expect(item["reference"] as? String == "r\(index)") }
            if let code = expected[index] {
                #expect((item["error"] as? [String: Any])?["code"] as? String == code, "item \(index): \(item)")
                #expect(item["signature"] == nil)
            } else {
                let signature = Array(try Data(base64: item["signature"]))
                let valid = PublicKey.p256(key).isValidSignature(
                    signature,
                    scheme: .ecdsa(.sha256),
                    input: .digest(Array(digests[index]))
                )
                #expect(valid, "item \(index)")
                good += 1
            }
        }
        #expect(good == 920)
        #expect(result.json["succeeded"] as? Int == 920)
        #expect(result.json["failed"] as? Int == 80)
    }

    @Test func verifyChecksSignaturesOnTheHostAndOnTheToken() async throws {
        let server = try await ServerFixture()
        try await server.createKey("ec", "ec-p256")
        try await server.createKey("rsa", "rsa-2048")
        let signer = try await server.credential(.signer, keys: ["ec", "rsa"])
        let auditor = try await server.credential(.auditor)
        for name in ["ec", "rsa"] {
            let digest = Data(SHA256.hash(data: Data(name.utf8))).base64EncodedString()
            let signed = try await server.request(
                "POST",
                "/v1/keys/\(name)/sign",
                token: signer,
                json: ["digest": digest]
            )
            let signature = try #require(signed.json["signature"] as? String)
            var tampered = try Data(base64: signature)
            tampered[tampered.count - 3] ^= 0x01
            let result = try await server.request(
                "POST",
                "/v1/keys/\(name)/verify",
                token: auditor,
                json: [
                    "items": [
                        ["digest": digest, "signature": signature, "reference": "good"],
                        ["digest": digest, "signature": tampered.base64EncodedString(), "reference": "tampered"],
                        ["digest": digest, "reference": "missing"],
                    ]
                ]
            )
            let results = try #require(result.json["results"] as? [[String: Any]], "\(result.text)")
            #expect(results[0]["valid"] as? Bool == true, "\(name)")
            #expect(results[1]["valid"] as? Bool == false, "\(name)")
            #expect((results[2]["error"] as? [String: Any])?["code"] as? String == "invalid_input")
        }
    }

    @Test func disabledKeysSignNothingUntilEnabled() async throws {
        let server = try await ServerFixture()
        try await server.createKey("toggle", "ec-p256")
        let signer = try await server.credential(.signer, keys: ["toggle"])
        let body = ["digest": Data(SHA256.hash(data: Data())).base64EncodedString()]
        let disabled = try await server.request("POST", "/v1/keys/toggle/disable", token: server.adminToken)
        #expect(disabled.json["state"] as? String == "disabled")
        let refused = try await server.request("POST", "/v1/keys/toggle/sign", token: signer, json: body)
        #expect(refused.status == 409 && refused.errorCode == "key_disabled")
        _ = try await server.request("POST", "/v1/keys/toggle/enable", token: server.adminToken)
        let signed = try await server.request("POST", "/v1/keys/toggle/sign", token: signer, json: body)
        #expect(signed.status == 200)
    }

    private func opensslVerifies(_ testCase: Case, _ publicKey: String, _ signature: String, _ message: String) throws
        -> Bool
    {
        let arguments: [String]
        if let dgst = testCase.dgst {
            arguments = ["dgst"] + dgst + ["-verify", publicKey, "-signature", signature, message]
        } else {
            arguments = [
                "pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin", "-in", message, "-sigfile", signature,
            ]
        }
        let result = try runCommand("openssl", arguments)
        return result.status == 0 && result.stdout.contains("Verified")
            || result.status == 0 && result.stdout.contains("Signature Verified Successfully")
    }
}
