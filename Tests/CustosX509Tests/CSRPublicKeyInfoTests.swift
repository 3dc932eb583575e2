import CustosTestSupport
import CustosX509
import Foundation
import Testing
import X509

/// The subject key identifier hashed from the request's own bytes is the one swift-certificates makes
/// from the parsed key, and requests whose bytes are in any other form take the long way.
@Suite struct CSRPublicKeyInfoTests {
    /// A DER CSR from openssl for `key` (a PEM private key file), made with `keyArguments`.
    static func csr(_ directory: String, _ name: String, key keyArguments: [String]) throws -> [UInt8] {
        let path = "\(directory)/\(name).der"
        let made = try runCommand(
            "openssl",
            ["req", "-new"] + keyArguments + ["-subj", "/CN=\(name)", "-outform", "DER", "-out", path]
        )
        try #require(made.status == 0, "\(made.stderr)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func eachFormOfKeyGivesTheIdentifierSwiftCertificatesGives() throws {
        let directory = try makeTemporaryDirectory("csr-spki")
        var requests: [(name: String, der: [UInt8], canonical: Bool)] = []
        for (name, curve) in [("p256", "P-256"), ("p384", "P-384"), ("p521", "P-521")] {
            let newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:\(curve)", "-nodes", "-keyout", "/dev/null"]
            requests.append((name, try Self.csr(directory, name, key: newkey), true))
        }
        // A compressed point: valid, but not the bytes swift-certificates writes.
        let keyPath = "\(directory)/compressed.key"
        for arguments in [
            ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyPath],
            ["ec", "-in", keyPath, "-conv_form", "compressed", "-out", keyPath],
        ] {
            let result = try runCommand("openssl", arguments)
            try #require(result.status == 0, "\(result.stderr)")
        }
        requests.append(("compressed", try Self.csr(directory, "compressed", key: ["-key", keyPath]), false))
        for (name, newkey) in [("rsa", ["-newkey", "rsa:2048"]), ("ed25519", ["-newkey", "ed25519"])] {
            requests.append(
                (name, try Self.csr(directory, name, key: newkey + ["-nodes", "-keyout", "/dev/null"]), false)
            )
        }
        for request in requests {
            let shortcut = CSRPublicKeyInfo.canonicalECPoint(in: request.der)
            #expect((shortcut != nil) == request.canonical, "\(request.name)")
            // swift-certificates refuses compressed points; issuance never gets that far with one.
            guard let parsed = try? CertificateSigningRequest(derEncoded: request.der) else {
                #expect(request.name == "compressed")
                continue
            }
            if let shortcut {
                // The very bits swift-certificates hashes (its name for them notwithstanding).
                #expect(Array(shortcut) == Array(parsed.publicKey.subjectPublicKeyInfoBytes), "\(request.name)")
            }
            #expect(
                CSRPublicKeyInfo.subjectKeyIdentifier(csr: request.der, publicKey: parsed.publicKey)
                    == SubjectKeyIdentifier(hash: parsed.publicKey),
                "\(request.name)"
            )
        }
    }

    @Test func cutOrWrongBytesGiveNoShortcut() throws {
        let directory = try makeTemporaryDirectory("csr-spki-cut")
        let der = try Self.csr(
            directory,
            "p256",
            key: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null"]
        )
        #expect(CSRPublicKeyInfo.canonicalECPoint(in: der) != nil)
        for length in 0..<der.count {
            // Cut anywhere before the key ends, the walk finds no key (and never reads past the end).
            let found = CSRPublicKeyInfo.canonicalECPoint(in: Array(der.prefix(length)))
            #expect(found == nil || length >= 4 + 4 + 3 + 2 + 91, "cut at \(length)")
        }
        #expect(CSRPublicKeyInfo.canonicalECPoint(in: [0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]) == nil)
        #expect(CSRPublicKeyInfo.canonicalECPoint(in: [0x31] + der.dropFirst()) == nil)
    }
}
