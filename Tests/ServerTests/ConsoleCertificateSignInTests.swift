import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import Testing
import X509

/// Smartcard sign-in to the web console: a TLS client certificate bound to a credential (by the API)
/// signs in as it, with curl over real TLS; unbound, expired or unbound-again certificates and a
/// revoked credential do not, and every attempt is audited.
@Suite(.serialized, .stopsServers) struct ConsoleCertificateSignInTests {
    @Test func aBoundClientCertificateSignsInToTheConsole() async throws {
        let est = try await ESTServer.start()
        let directory = est.directory
        // Three client certificates with their keys (self-signed: the handshake proves the key, the
        // binding names the certificate): one to bind, one never bound, one that expired.
        for name in ["card", "stranger"] {
            try est.openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(name).key", "-out", "\(name).pem", "-subj", "/CN=\(name) card/O=Custos Tests", "-days", "30",
            ])
        }
        // openssl 3.0 cannot date a certificate in the past; this one expired yesterday.
        let oldKey = P256.Signing.PrivateKey()
        let oldName = try DistinguishedName { CommonName("old card") }
        let expired = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(oldKey.publicKey),
            notValidBefore: Date() - 30 * 86_400,
            notValidAfter: Date() - 86_400,
            issuer: oldName,
            subject: oldName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: .init(),
            issuerPrivateKey: .init(oldKey)
        )
        try (try expired.serializeAsPEM().pemString + "\n").write(
            toFile: "\(directory)/old.pem",
            atomically: true,
            encoding: .utf8
        )
        try (oldKey.pemRepresentation + "\n").write(toFile: "\(directory)/old.key", atomically: true, encoding: .utf8)
        let oldPEM = try String(contentsOfFile: "\(directory)/old.pem", encoding: .utf8)
        let credentials = est.server.api.credentials
        let officer = try await credentials.create(role: .officer, keyPatterns: [], requester: .init(actor: "test"))
            .record
        let pem = try String(contentsOfFile: "\(directory)/card.pem", encoding: .utf8)

        // Binding is the administrator's: refused for a signer credential, for text that is no
        // certificate, and for an unknown credential.
        let signer = try await credentials.create(role: .signer, keyPatterns: ["x"], requester: .init(actor: "test"))
            .record
        let refusedRole = try await est.api("PUT", "/v1/credentials/\(signer.id)/certificates", ["certificate": pem])
        #expect(refusedRole.status == 400 && refusedRole.text.contains("console"), "\(refusedRole.text)")
        let notPEM = try await est.api("PUT", "/v1/credentials/\(officer.id)/certificates", ["certificate": "x"])
        #expect(notPEM.status == 400 && notPEM.text.contains("PEM X.509"), "\(notPEM.text)")
        let unknown = try await est.api("PUT", "/v1/credentials/nosuch/certificates", ["certificate": pem])
        #expect(unknown.status == 404)
        let bound = try await est.api("PUT", "/v1/credentials/\(officer.id)/certificates", ["certificate": pem])
        #expect(bound.status == 200, "\(bound.text)")
        let hash = try #require((bound.json["certificates"] as? [String])?.first)
        let other = try await credentials.create(role: .auditor, keyPatterns: [], requester: .init(actor: "test"))
            .record
        // The expired certificate is bound to another credential: its date, not its binding, refuses it.
        #expect(
            try await est.api("PUT", "/v1/credentials/\(other.id)/certificates", ["certificate": oldPEM]).status == 200
        )
        let twice = try await est.api("PUT", "/v1/credentials/\(other.id)/certificates", ["certificate": pem])
        #expect(twice.status == 400 && twice.text.contains("bound to credential \(officer.id)"), "\(twice.text)")

        /// Signs in with curl presenting `card` (or no certificate); returns the final answer and whether
        /// the sign-in page offered the certificate.
        func signIn(_ card: String?) async throws -> (offered: Bool, answer: HTTPResult) {
            let jar = "\(directory)/jar-\(UUID().uuidString)"
            let client = card.map { ["--cert", "\($0).pem", "--key", "\($0).key"] } ?? []
            let form = try await est.curl(client + ["-c", jar, "\(est.base)/ui/signin"])
            let csrf = try #require(
                form.text.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" }
            )
            let posted = try await est.curl(
                client + [
                    "-b", jar, "-c", jar, "--data-urlencode", "csrf=\(csrf)", "--data-urlencode", "method=certificate",
                    "\(est.base)/ui/signin",
                ]
            )
            guard posted.status == 303 else { return (form.text.contains("sign-in-certificate"), posted) }
            let dashboard = try await est.curl(client + ["-b", jar, "\(est.base)/ui/"])
            return (form.text.contains("sign-in-certificate"), dashboard)
        }

        let card = try await signIn("card")
        #expect(card.offered, "the sign-in page offers the bound certificate")
        #expect(
            card.answer.status == 200 && card.answer.text.contains("credential/\(officer.id)"),
            "\(card.answer.text)"
        )
        #expect(card.answer.text.contains("(officer)"))
        for (name, expected) in [("stranger", "not bound to a live credential"), ("old", "not valid now")] {
            let refused = try await signIn(name)
            #expect(!refused.offered && refused.answer.status == 401, "\(name): \(refused.answer.status)")
            #expect(refused.answer.text.contains(expected), "\(name): \(refused.answer.text)")
        }
        let none = try await signIn(nil)
        #expect(!none.offered && none.answer.status == 401 && none.answer.text.contains("no client certificate"))

        // Unbound, the certificate signs in no more; bound again and the credential revoked, neither.
        let unbound = try await est.api("DELETE", "/v1/credentials/\(officer.id)/certificates/\(hash)")
        #expect(unbound.status == 200 && unbound.json["certificates"] == nil, "\(unbound.text)")
        #expect(try await signIn("card").answer.status == 401)
        #expect(
            try await est.api("PUT", "/v1/credentials/\(officer.id)/certificates", ["certificate": pem]).status == 200
        )
        #expect(try await est.api("DELETE", "/v1/credentials/\(officer.id)").status == 204)
        #expect(try await signIn("card").answer.status == 401)

        let signIns = try await est.audit("console.signin").map(\.event.outcome)
        #expect(signIns.filter { $0.hasPrefix("success") && $0.contains("by certificate sha256 \(hash)") }.count == 1)
        #expect(signIns.contains { $0.contains("is not valid now") }, "\(signIns)")
        #expect(signIns.filter { $0.hasPrefix("failure") }.count == 5, "\(signIns)")
        #expect(signIns.contains { $0.contains("no client certificate") }, "\(signIns)")
        #expect(try await est.audit("credential.certificate.bind").count == 3)
        #expect(try await est.audit("credential.certificate.unbind").count == 1)
        await est.server.stop()
    }
}
