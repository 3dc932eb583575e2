import Codecs
import Crypto
import CustosTestSupport
import Foundation
import Testing

/// Certificate downloads after the CA is renewed with its key (alternate chains) and re-keyed (earlier
/// certificates keep the chain of the key that signed them).
@Suite(.serialized) struct ACMECertificateChainTests {
    /// The PEM certificates of a download, each as DER.
    static func certificates(_ answer: HTTPResult) -> [String] {
        answer.text.components(separatedBy: "-----END CERTIFICATE-----").dropLast().map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines) + "\n-----END CERTIFICATE-----\n"
        }
    }

    /// Whether a download (leaf and chain) verifies against the root `ca.pem`.
    static func verifies(_ answer: HTTPResult, _ acme: ACMEServer, as name: String) throws -> Bool {
        try answer.body.write(to: URL(fileURLWithPath: "\(acme.directory)/\(name).pem"))
        let result = try runCommand(
            "openssl",
            ["verify", "-CAfile", "ca.pem", "-untrusted", "\(name).pem", "\(name).pem"],
            currentDirectory: acme.directory
        )
        return result.status == 0
    }

    @Test func chainsFollowTheCAKeyThatSigned() async throws {
        let acme = try await ACMEServer.start(challengeServerAnswers: true)
        defer { acme.stop() }
        try await acme.profile("web")
        let client = ACMETestClient(acme)
        try await client.register()
        let first = try await client.issue(["one.acme.test"])
        let alone = try await client.get(first)
        #expect(alone.headers["link"]?.contains("rel=\"alternate\"") == false, "\(alone.headers)")
        #expect(try await client.get(first + "/1").status == 404)

        // Renewed with the same key: the certificate verifies with either CA certificate.
        let renewed = try await acme.est.api("POST", "/v1/cas/web/renew", ["rekey": false])
        #expect(renewed.status == 200 || renewed.status == 201, "\(renewed.text)")
        let both = try await client.get(first)
        #expect(both.headers["link"]?.contains("<\(first)/1>;rel=\"alternate\"") == true, "\(both.headers)")
        let alternate = try await client.get(first + "/1")
        #expect(alternate.headers["link"]?.contains("<\(first)>;rel=\"alternate\"") == true, "\(alternate.headers)")
        #expect(Self.certificates(both)[1] != Self.certificates(alternate)[1])
        #expect(try Self.verifies(both, acme, as: "both") && Self.verifies(alternate, acme, as: "alternate"))

        // Re-keyed: new certificates come with the new CA certificate, earlier ones with the old key's.
        let rekeyed = try await acme.est.api("POST", "/v1/cas/web/renew", ["rekey": true])
        #expect(rekeyed.status == 200 || rekeyed.status == 201, "\(rekeyed.text)")
        let current = try await acme.est.api("GET", "/v1/cas/web/certificate")
        let second = try await client.get(try await client.issue(["two.acme.test"]))
        #expect(Self.certificates(second)[1] == current.text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n")
        #expect(try Self.verifies(second, acme, as: "second"))
        let old = try await client.get(first)
        #expect(Self.certificates(old)[1] != Self.certificates(second)[1])
        #expect(try Self.verifies(old, acme, as: "old"))
    }
}
