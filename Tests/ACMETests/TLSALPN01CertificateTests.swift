import ACME
import Crypto
import CustosTestSupport
import Foundation
import Testing
import X509

@testable import ACMEValidation

/// What a tls-alpn-01 certificate must be (RFC 8737 section 3), checked on certificates openssl makes:
/// the identifier as only SAN, the critical acmeIdentifier extension with SHA-256 of the key authorization.
@Suite struct TLSALPN01CertificateTests {
    static let keyAuthorization = "token123.thumbprint456"

    static func certificate(san: String, digestHex: String?, critical: Bool = true) throws -> Certificate {
        let directory = try makeTemporaryDirectory("alpn")
        var arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem",
            "-out", "c.pem", "-subj", "/CN=acme", "-days", "1", "-addext", "subjectAltName=\(san)",
        ]
        if let digestHex {
            arguments += ["-addext", "1.3.6.1.5.5.7.1.31=\(critical ? "critical," : "")DER:0420\(digestHex)"]
        }
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        try #require(result.status == 0, "\(result.stderr)")
        return try Certificate(pemEncoded: try String(contentsOfFile: "\(directory)/c.pem", encoding: .utf8))
    }

    static var digest: String {
        SHA256.hash(data: Array(keyAuthorization.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func aProperCertificatePasses() throws {
        let identifier = try ACMEIdentifier(kind: .dns, value: "www.acme.test")
        try TLSALPN01Check.checkCertificate(
            try Self.certificate(san: "DNS:www.acme.test", digestHex: Self.digest),
            identifier: identifier,
            keyAuthorization: Self.keyAuthorization
        )
        try TLSALPN01Check.checkCertificate(
            try Self.certificate(san: "IP:10.0.0.1", digestHex: Self.digest),
            identifier: try ACMEIdentifier(kind: .ip, value: "10.0.0.1"),
            keyAuthorization: Self.keyAuthorization
        )
    }

    @Test(arguments: [
        ("DNS:www.acme.test", nil as String?, true, "no acmeIdentifier"),
        ("DNS:www.acme.test", TLSALPN01CertificateTests.digest, false, "not critical"),
        ("DNS:www.acme.test", String(repeating: "00", count: 32), true, "digest"),
        ("DNS:www.acme.test,DNS:other.acme.test", TLSALPN01CertificateTests.digest, true, "not exactly"),
        ("DNS:other.acme.test", TLSALPN01CertificateTests.digest, true, "not exactly"),
    ])
    func wrongCertificatesFail(san: String, digest: String?, critical: Bool, reason: String) throws {
        let certificate = try Self.certificate(san: san, digestHex: digest, critical: critical)
        do {
            try TLSALPN01Check.checkCertificate(
                certificate,
                identifier: try ACMEIdentifier(kind: .dns, value: "www.acme.test"),
                keyAuthorization: Self.keyAuthorization
            )
            Issue.record("accepted: \(san) \(reason)")
        } catch {
            #expect(error.kind == .unauthorized && error.detail.contains(reason), "\(error)")
        }
    }
}
