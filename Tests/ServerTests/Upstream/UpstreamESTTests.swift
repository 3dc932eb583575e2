import CustosTestSupport
import Foundation
import MetadataStore
import Server
import Testing
import X509

/// A second Custos as the upstream CA over EST: the RA authenticates with TLS, its certificate from a
/// partner CA the upstream's profile trusts and its key in the downstream's HSM; the upstream's TLS
/// certificate must chain to the link's response anchors.
@Suite(.serialized, .stopsServers) struct UpstreamESTTests {
    @Test func aSecondCustosIssuesOverESTToTheRAsHSMKey() async throws {
        let upstream = try await ESTServer.start(tlsFromTestCA: true)
        try upstream.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "partner.key",
            "-out", "partner.pem", "-subj", "/CN=Partner RAs", "-days", "5", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ])
        try upstream.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key",
            "-out", "other.pem", "-subj", "/CN=Other RAs", "-days", "5", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ])
        let directory = upstream.directory
        func text(_ name: String) throws -> String {
            try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
        }
        try await upstream.profile(
            "partners",
            ["authentication": ["oneTimePasswords": false, "clientCertificateAnchors": [try text("partner.pem")]]]
        )
        let devicesCA = try #require(try await upstream.api("GET", "/v1/cas/devices").json["certificate"] as? String)
        try devicesCA.write(toFile: "\(directory)/devices.pem", atomically: true, encoding: .utf8)

        // The downstream Custos records the upstream, and its RA gets a certificate of the partner CA.
        let downstream = try await ServerFixture(configuration: ServerConfiguration(port: 0))
        func record(_ id: String, anchors: String, raCA: String) async throws {
            let created = try await downstream.request(
                "POST",
                "/v1/cas/upstream",
                token: downstream.adminToken,
                json: [
                    "id": id, "protocol": "est",
                    "url": "https://localhost:\(upstream.server.port)/.well-known/est/partners",
                    "certificate": devicesCA, "responseAnchors": try text(anchors), "timeoutSeconds": 20, "attempts": 2,
                ]
            )
            guard created.status == 201 else { throw TestFailure("recording \(id): \(created.text)") }
            try #require(created.json["csr"] as? String).write(
                toFile: "\(directory)/\(id)-ra.csr",
                atomically: true,
                encoding: .utf8
            )
            try "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
                .write(toFile: "\(directory)/ra.ext", atomically: true, encoding: .utf8)
            try upstream.openssl([
                "x509", "-req", "-in", "\(id)-ra.csr", "-CA", "\(raCA).pem", "-CAkey", "\(raCA).key", "-CAcreateserial",
                "-days", "4", "-extfile", "ra.ext", "-out", "\(id)-ra.pem",
            ])
            let activated = try await downstream.request(
                "PUT",
                "/v1/cas/\(id)/certificate",
                token: downstream.adminToken,
                json: ["certificate": try text("\(id)-ra.pem"), "issuerChain": try text("\(raCA).pem")]
            )
            guard activated.status == 200 else { throw TestFailure("activating \(id): \(activated.text)") }
        }
        try await record("corporate", anchors: "tls-ca.pem", raCA: "partner")

        try upstream.openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "device.key",
            "-subj", "/CN=device-21", "-out", "device.csr",
        ])
        func issue(_ ca: String) async throws -> HTTPResult {
            try await downstream.request(
                "POST",
                "/v1/cas/\(ca)/certificates",
                token: downstream.adminToken,
                json: ["csr": try text("device.csr"), "category": "device"]
            )
        }
        let issued = try await issue("corporate")
        #expect(issued.status == 201, "\(issued.text)")
        try #require(issued.json["certificate"] as? String).write(
            toFile: "\(directory)/got.pem",
            atomically: true,
            encoding: .utf8
        )
        let verify = try runCommand(
            "openssl",
            ["verify", "-CAfile", "devices.pem", "got.pem"],
            currentDirectory: directory
        )
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // The upstream issued it to the RA's TLS identity over EST.
        let enrolled = try await upstream.audit("certificate.enroll")
        #expect(
            enrolled.count == 1 && enrolled.first?.event.actor.contains("Custos RA for corporate") == true,
            "\(enrolled)"
        )
        let serial = try #require(issued.json["serial"] as? String)
        // Renewal with a CSR goes to the upstream as EST simpleenroll too (EST carries nothing else).
        let renewed = try await downstream.request(
            "POST",
            "/v1/cas/corporate/certificates/\(serial)/renew",
            token: downstream.adminToken,
            json: ["csr": try text("device.csr")]
        )
        #expect(renewed.status == 201 && renewed.json["serial"] as? String != serial, "\(renewed.text)")
        let withoutCSR = try await downstream.request(
            "POST",
            "/v1/cas/corporate/certificates/\(serial)/renew",
            token: downstream.adminToken,
            json: [String: Any]()
        )
        #expect(
            withoutCSR.status == 409 && withoutCSR.text.contains("only the client's own PKCS#10"),
            "\(withoutCSR.text)"
        )
        let revoke = try await downstream.request(
            "POST",
            "/v1/cas/corporate/certificates/\(serial)/revoke",
            token: downstream.adminToken,
            json: ["reason": "superseded"]
        )
        #expect(revoke.status == 409 && revoke.text.contains("has no revocation"), "\(revoke.text)")

        // An RA the upstream's profile does not trust is refused there; a server the anchors do not
        // trust is not talked to.
        try await record("stranger", anchors: "tls-ca.pem", raCA: "other")
        let stranger = try await issue("stranger")
        #expect(stranger.status == 422 && stranger.errorCode == "upstream_refused", "\(stranger.text)")
        try await record("mistrusted", anchors: "partner.pem", raCA: "partner")
        let mistrusted = try await issue("mistrusted")
        #expect(mistrusted.status == 502 && mistrusted.errorCode == "upstream_unavailable", "\(mistrusted.text)")
        let stored = try await downstream.api.store.read {
            try $0.records(CertificateRecord.self, after: nil, limit: 100)
        }
        #expect(stored.map(\.issuer) == ["corporate", "corporate"])
    }
}
