import Crypto
import CustosTestSupport
import Foundation
import PKCS11
import Server
import Signing
import SwiftASN1
import Testing
import X509

/// What the code-signing cases share: the openssl verify call, Ed25519 checked by hand, attaching a
/// chain, and the request itself.
extension CodeSigningTests {
    func verifyArguments(_ signature: String, _ content: String, _ root: String) -> [String] {
        // OpenSSL 3.0 has no code-signing purpose and checks S/MIME signing by default.
        [
            "cms", "-verify", "-binary", "-inform", "DER", "-in", signature, "-content", content, "-CAfile", root,
            "-purpose", "any", "-out", "/dev/null",
        ]
    }

    /// RFC 8419: the signature is pure Ed25519 over the signed attributes, whose message digest is
    /// SHA-512 of the artifact.
    func verifyEd25519ByHand(
        _ response: HTTPResult,
        _ artifact: Data,
        _ modified: Data,
        publicKey: String,
        _ directory: String
    ) throws {
        let parsed = try ParsedCMS(Array(response.body))
        let keyPath = try writeFile(directory, "ed25519.pem", Data(publicKey.utf8))
        let attributesPath = try writeFile(directory, "attributes.der", Data(parsed.signedAttributes))
        let signaturePath = try writeFile(directory, "ed25519.sig", Data(parsed.signature))
        let verified = try runCommand(
            "openssl",
            [
                "pkeyutl", "-verify", "-pubin", "-inkey", keyPath, "-rawin", "-in", attributesPath, "-sigfile",
                signaturePath,
            ]
        )
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let digest = Array(SHA512.hash(data: artifact))
        let tamperedDigest = Array(SHA512.hash(data: modified))
        #expect(parsed.signedAttributes.contains(digest[...]) && !parsed.signedAttributes.contains(tamperedDigest[...]))
    }

    @discardableResult
    func attachCertificate(
        _ server: ServerFixture,
        _ ca: TestCA,
        key: String,
        algorithm: String,
        usages: [ExtendedKeyUsage.Usage] = [.codeSigning],
        notValidAfter: Date = Date() + 86400
    ) async throws -> String {
        let created = try await server.createKey(key, algorithm)
        let leaf = try ca.leaf(
            for: try #require(created.json["publicKey"] as? String),
            name: key,
            usages: usages,
            notValidBefore: min(Date() - 3600, notValidAfter - 7200),
            notValidAfter: notValidAfter
        )
        let attached = try await server.request(
            "PUT",
            "/v1/keys/\(key)/certificate",
            token: server.adminToken,
            json: ["certificateChain": try ca.chainPEM(leaf)]
        )
        #expect(attached.status == 200, "\(attached.text)")
        return try #require(created.json["publicKey"] as? String)
    }

    func codesign(_ server: ServerFixture, _ name: String, _ testCase: Case, _ artifact: Data, token: String)
        async throws -> HTTPResult
    {
        switch testCase.input {
        case .digest:
            var fields = testCase.fields
            fields["digest"] = Data(testCase.hash.digest(Array(artifact))).base64EncodedString()
            return try await server.request("POST", "/v1/codesign/\(name)", token: token, json: fields)
        case .data:
            var fields = testCase.fields
            fields["data"] = artifact.base64EncodedString()
            return try await server.request("POST", "/v1/codesign/\(name)", token: token, json: fields)
        case .stream:
            let query = testCase.fields.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            return try await server.request(
                "POST",
                "/v1/codesign/\(name)" + (query.isEmpty ? "" : "?" + query),
                token: token,
                body: artifact,
                contentType: "application/octet-stream"
            )
        }
    }
}
