import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// Signatures made in the HSM verify with openssl on the exported public key.
@Suite struct OpenSSLInteropTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var algorithm: KeyAlgorithm
        var scheme: SignatureScheme
        var opensslArguments: [String]
        var testDescription: String { "\(algorithm.rawValue) \(scheme)" }
    }

    static let cases: [Case] = [
        Case(algorithm: .ecP256, scheme: .ecdsa(.sha256), opensslArguments: ["dgst", "-sha256"]),
        Case(algorithm: .ecP521, scheme: .ecdsa(.sha512), opensslArguments: ["dgst", "-sha512"]),
        Case(algorithm: .rsa2048, scheme: .rsaPKCS1v15(.sha256), opensslArguments: ["dgst", "-sha256"]),
        Case(
            algorithm: .rsa3072,
            scheme: .rsaPSS(.sha256, saltLength: 32),
            opensslArguments: ["dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
        ),
        Case(algorithm: .ed25519, scheme: .ed25519, opensslArguments: ["pkeyutl", "-rawin"]),
    ]

    @Test(arguments: cases)
    func opensslVerifiesHSMSignature(_ testCase: Case) throws {
        let (session, _) = try userSession()
        let keys = try generate(testCase.algorithm, in: session)
        let message = Array("firmware image v1.2.3".utf8)
        let prepared = try testCase.scheme.prepare(.message(message))
        var signature = try session.sign(prepared.mechanism, key: keys.private, data: prepared.data)
        if case .ecdsa = testCase.scheme {
            signature = try ECDSASignatureFormat.der(fromRaw: signature, algorithm: testCase.algorithm)
        }
        let directory = try makeTemporaryDirectory()
        let pem = "\(directory)/key.pem"
        try session.publicKey(of: keys.public).pemRepresentation.write(toFile: pem, atomically: true, encoding: .utf8)
        try Data(message).write(to: URL(fileURLWithPath: "\(directory)/message"))
        try Data(signature).write(to: URL(fileURLWithPath: "\(directory)/signature"))

        func verify(_ file: String) throws -> CommandResult {
            if testCase.opensslArguments.first == "pkeyutl" {
                return try runCommand(
                    "openssl",
                    testCase.opensslArguments + [
                        "-verify", "-pubin", "-inkey", pem, "-in", file, "-sigfile", "\(directory)/signature",
                    ]
                )
            }
            return try runCommand(
                "openssl",
                testCase.opensslArguments + ["-verify", pem, "-signature", "\(directory)/signature", file]
            )
        }
        let good = try verify("\(directory)/message")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("Verified OK") || good.stdout.contains("Signature Verified Successfully"))
        try Data(message + [0]).write(to: URL(fileURLWithPath: "\(directory)/other"))
        #expect(try verify("\(directory)/other").status != 0)
    }
}
