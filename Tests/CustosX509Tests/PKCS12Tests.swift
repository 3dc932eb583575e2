import Codecs
import CustosTestSupport
import CustosX509
import Foundation
import Testing

/// The PKCS#12 writer and its key derivation, against OpenSSL and Python's `cryptography`: the MAC key
/// equals OpenSSL's `PKCS12KDF`, and a file written around a key encrypted with AES-256-CBC under a
/// PBKDF2 key opens in both with the password, giving back that key and its certificate.
@Suite struct PKCS12Tests {
    @Test func theMACKeyDerivationIsOpenSSLs() throws {
        for (password, salt, iterations) in [
            ("test", [UInt8](1...8), 2048), ("pässwörd with spaces", [UInt8](repeating: 0xA5, count: 16), 1),
            ("a longer password that spans more than one sixty-four byte block of BMP text", [0x00, 0xFF], 3),
        ] {
            let ours = PKCS12KeyDerivation.derive(
                password: password,
                salt: salt,
                iterations: iterations,
                id: 3,
                count: 32
            )
            // OpenSSL's KDF takes the password already as a BMPString with its two zero bytes.
            var bmp: [UInt8] = []
            for unit in password.utf16 { bmp += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
            bmp += [0, 0]
            let openssl = try runCommand(
                "openssl",
                [
                    "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256", "-kdfopt", "hexpass:\(Hex.encode(bmp))",
                    "-kdfopt",
                    "hexsalt:\(Hex.encode(salt))", "-kdfopt", "iter:\(iterations)", "-kdfopt", "id:3", "PKCS12KDF",
                ]
            )
            #expect(openssl.status == 0, "\(openssl.stderr)")
            let theirs = openssl.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(
                of: ":",
                with: ""
            )
            #expect(Hex.encode(ours).uppercased() == theirs, "\(password)")
        }
    }

    @Test func aWrittenFileOpensInOpenSSLAndPython() throws {
        let directory = try makeTemporaryDirectory("pkcs12")
        func openssl(_ arguments: [String]) throws -> CommandResult {
            let result = try runCommand("openssl", arguments, currentDirectory: directory)
            #expect(result.status == 0, "openssl \(arguments): \(result.stderr)")
            return result
        }
        // The test's own key and certificate (a token's C_WrapKey would give the same ciphertext).
        _ = try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
            "-out", "cert.pem", "-subj", "/CN=device 7", "-days", "1",
        ])
        _ = try openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"])
        let password = "Zürich line 3"
        let salt = [UInt8](repeating: 0x11, count: 16)
        let iv = [UInt8](0..<16)
        let iterations = 2048
        let derived = try openssl([
            "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256", "-kdfopt", "pass:\(password)", "-kdfopt",
            "hexsalt:\(Hex.encode(salt))", "-kdfopt", "iter:\(iterations)", "PBKDF2",
        ]).stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "")
        _ = try openssl([
            "enc", "-aes-256-cbc", "-K", derived, "-iv", Hex.encode(iv), "-in", "key.der", "-out", "key.enc",
        ])
        let ciphertext = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/key.enc")))
        let certificate = try PEM.block(try String(contentsOfFile: "\(directory)/cert.pem", encoding: .utf8)).der
        let pfx = try PKCS12Writer.pfx(
            certificates: [certificate],
            key: .init(ciphertext: ciphertext, salt: salt, iterations: iterations, iv: iv),
            password: password,
            macSalt: [UInt8](repeating: 0x22, count: 16),
            macIterations: iterations,
            name: "device 7"
        )
        try Data(pfx).write(to: URL(fileURLWithPath: "\(directory)/device.p12"))

        let info = try openssl(["pkcs12", "-in", "device.p12", "-passin", "pass:\(password)", "-info", "-noout"])
        for expected in [
            "MAC: sha256, Iteration 2048", "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC", "PRF hmacWithSHA256",
        ] {
            #expect(info.stderr.contains(expected), "\(expected): \(info.stderr)")
        }
        _ = try openssl(["pkcs12", "-in", "device.p12", "-passin", "pass:\(password)", "-nodes", "-out", "out.pem"])
        let original = try openssl(["pkey", "-in", "key.pem", "-outform", "DER"]).stdout
        let recovered = try openssl(["pkey", "-in", "out.pem", "-outform", "DER"]).stdout
        #expect(!original.isEmpty && original == recovered)
        let out = try String(contentsOfFile: "\(directory)/out.pem", encoding: .utf8)
        #expect(out.contains("friendlyName: device 7") && out.contains("localKeyID:"), "\(out)")
        let wrong = try runCommand(
            "openssl",
            ["pkcs12", "-in", "device.p12", "-passin", "pass:other", "-nodes"],
            currentDirectory: directory
        )
        #expect(wrong.status != 0 && wrong.stderr.contains("Mac verify error"), "\(wrong.stderr)")

        let python = try runCommand(
            "python3",
            [
                "-c",
                """
                import sys
                from cryptography.hazmat.primitives.serialization import pkcs12, load_pem_private_key
                key, cert, extra = pkcs12.load_key_and_certificates(open("device.p12", "rb").read(), sys.argv[1].encode())
                mine = load_pem_private_key(open("key.pem", "rb").read(), None)
                assert key.private_numbers() == mine.private_numbers()
                print(cert.subject.rfc4514_string(), len(extra))
                """,
                password,
            ],
            currentDirectory: directory
        )
        #expect(python.status == 0 && python.stdout.contains("CN=device 7 0"), "\(python.stdout) \(python.stderr)")
    }
}
