import CustosTestSupport
import Foundation
import MetadataStore
import Testing

/// EST (RFC 7030) end to end over HTTPS with the TLS key in the HSM: curl and openssl for every
/// operation, one-time passwords, re-enrollment over mutual TLS with the issued certificate, and the
/// refusals a client gets for each kind of bad request.
@Suite(.serialized, .stopsServers) struct ESTTests {
    @Test func curlAndOpenSSLEnrollAndRenewOverMutualTLS() async throws {
        let est = try await ESTServer.start()
        try await est.profile("line-3", ["description": "Controllers of line 3"])
        try await est.saveCA()
        let caText = try String(contentsOfFile: "\(est.directory)/ca.pem", encoding: .utf8)
        #expect(caText.contains("subject=O = Custos Tests, CN = Devices CA"), "\(caText)")

        // csrattrs: a P-256 key signed with ECDSA-SHA256 and a CN, as the CA's device policy asks.
        var policy = IssuancePolicyJSON.user
        policy["allowedSubjectAttributes"] = ["CN": ".+", "O": ".+"]
        policy["allowedSANTypes"] = ["dns": ".+"]
        let set = try await est.api("PUT", "/v1/cas/devices/policies/device", policy)
        #expect(set.status == 200, "\(set.text)")
        let attributes = try await est.curl(["\(est.base)/.well-known/est/line-3/csrattrs"])
        #expect(attributes.status == 200 && attributes.headers["content-type"] == "application/csrattrs")
        try attributes.body.write(to: URL(fileURLWithPath: "\(est.directory)/attrs.b64"))
        try est.openssl(["base64", "-d", "-A", "-in", "attrs.b64", "-out", "attrs.der"])
        let parsed = try runCommand(
            "openssl",
            ["asn1parse", "-inform", "DER", "-in", "attrs.der"],
            currentDirectory: est.directory
        )
        for expected in ["commonName", "ecdsa-with-SHA256", "id-ecPublicKey", "prime256v1"] {
            #expect(parsed.stdout.contains(":\(expected)"), "\(expected): \(parsed.stdout)")
        }

        // simpleenroll with a one-time password over HTTP Basic.
        let password = try await est.oneTimePassword("line-3", label: "PLC 4711")
        try est.csr("plc", subject: "/CN=PLC 4711/O=Custos Tests")
        let enrolled = try await est.enroll("line-3", "plc", ["--user", "plc-4711:\(password)"])
        #expect(enrolled.status == 200, "\(enrolled.text)")

        #expect(enrolled.headers["content-type"] == "application/pkcs7-mime; smime-type=certs-only")
        #expect(enrolled.headers["content-transfer-encoding"] == "base64")
        let certificate = try est.saveCertificate(enrolled, as: "plc")
        #expect(certificate.contains("subject=CN = PLC 4711, O = Custos Tests"), "\(certificate)")
        #expect(try est.verify("plc"))
        let findings = try est.lint("plc")
        #expect(findings.isEmpty, "\(findings)")
        let issued = try await est.audit("certificate.enroll")
        #expect(issued.count == 1 && issued[0].event.actor.hasPrefix("est/line-3/one-time/"), "\(issued)")
        #expect(issued.first?.event.actor.contains("(PLC 4711)") == true)

        // The password is spent: another request with it is refused, and nothing is issued.
        try est.csr("again", subject: "/CN=PLC 4712")
        let reused = try await est.enroll("line-3", "again", ["--user", "plc-4712:\(password)"])
        #expect(reused.status == 403 && reused.text.contains("has been used"), "\(reused.text)")
        let wrong = try await est.enroll("line-3", "again", ["--user", "plc-4712:abcdef-ghijkl-mnopqr-stuvwx"])
        #expect(wrong.status == 401 && wrong.headers["www-authenticate"] == "Basic realm=\"est/line-3\"", "\(wrong)")
        let none = try await est.enroll("line-3", "again")
        #expect(none.status == 401)
        #expect(try await est.audit("certificate.enroll").count == 1)
        #expect(try await est.audit("enrollment.refused").count == 3)

        // simplereenroll over mutual TLS with the issued certificate, for a new key.
        try est.csr("plc-renewed", subject: "/CN=PLC 4711/O=Custos Tests")
        let renewed = try await est.enroll(
            "line-3",
            "plc-renewed",
            operation: "simplereenroll",
            ["--cert", "plc.pem", "--key", "plc.key"]
        )
        #expect(renewed.status == 200, "\(renewed.text)")
        try est.saveCertificate(renewed, as: "plc-renewed")
        #expect(try est.verify("plc-renewed"))
        let renewals = try await est.audit("certificate.reenroll")
        #expect(renewals.count == 1 && renewals[0].event.actor.hasPrefix("est/line-3/certificate/devices/"))

        // Renewal must keep the names, and needs the certificate itself as the credential.
        try est.csr("renamed", subject: "/CN=Someone Else/O=Custos Tests")
        let renamed = try await est.enroll(
            "line-3",
            "renamed",
            operation: "simplereenroll",
            ["--cert", "plc.pem", "--key", "plc.key"]
        )
        #expect(renamed.status == 403 && renamed.text.contains("renewalSameSubject"), "\(renamed.text)")
        // Nor does a certificate of this CA buy a new enrollment for other names.
        let other = try await est.enroll("line-3", "renamed", ["--cert", "plc.pem", "--key", "plc.key"])
        #expect(other.status == 403 && other.text.contains("renewalSameSubject"), "\(other.text)")
        let otherPassword = try await est.oneTimePassword("line-3")
        let byPassword = try await est.enroll(
            "line-3",
            "plc-renewed",
            operation: "simplereenroll",
            ["--user", "x:\(otherPassword)"]
        )
        #expect(byPassword.status == 403 && byPassword.text.contains("certificate being renewed"), "\(byPassword.text)")

        // A revoked certificate renews nothing.
        let serial = try #require(renewals.first?.event.object.split(separator: "/").last.map(String.init))
        let revoked = try await est.api(
            "POST",
            "/v1/cas/devices/certificates/\(serial)/revoke",
            ["reason": "superseded"]
        )
        #expect(revoked.status == 200, "\(revoked.text)")
        try est.csr("late", subject: "/CN=PLC 4711/O=Custos Tests")
        let late = try await est.enroll(
            "line-3",
            "late",
            operation: "simplereenroll",
            ["--cert", "plc-renewed.pem", "--key", "plc-renewed.key"]
        )
        #expect(late.status == 403 && late.text.contains("revoked"), "\(late.text)")
        #expect(try await est.audit("certificate.reenroll").count == 1)
    }
}

extension ESTTests {
    /// A profile with manual approval: 202 with Retry-After until an officer decides, the certificate on
    /// the next request after approval, the officer's reason after a rejection; each decision audited
    /// with the officer's credential.
    /// serverkeygen: the key is made in the HSM and handed out only as CMS EnvelopedData for the RSA key
    /// of the client's TLS certificate, wrapped in the token with CKM_AES_CBC_PAD. SoftHSM 2.6 cannot wrap a
    /// private key that way, so here a client that passes every check is told so (501, naming the way that
    /// works), and nothing is issued; clients that fail a check are refused first.
    @Test func serverkeygenHandsKeysOutOnlyEncryptedToTheClient() async throws {
        let est = try await ESTServer.start()
        try await est.profile("line-4")
        try await est.profile("held", ["approval": "manual"])
        try await est.saveCA()
        // An RSA device certificate to authenticate with and to encrypt the key to.
        try est.openssl([
            "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-subj", "/CN=PLC 12/O=Custos Tests",
            "-outform", "DER", "-out", "rsa.der",
        ])
        try est.openssl(["base64", "-in", "rsa.der", "-out", "rsa.b64"])
        let password = try await est.oneTimePassword("line-4", label: "PLC 12")
        let enrolled = try await est.enroll("line-4", "rsa", ["--user", "plc:\(password)"])
        #expect(enrolled.status == 200, "\(enrolled.text)")
        try est.saveCertificate(enrolled, as: "rsa")
        try est.csr("wanted", subject: "/CN=PLC 12/O=Custos Tests")
        let mutualTLS = ["--cert", "rsa.pem", "--key", "rsa.key"]

        let untrusted = try await est.enroll(
            "line-4",
            "wanted",
            operation: "serverkeygen",
            ["--user", "x:wrong-password"]
        )
        #expect(untrusted.status == 401, "\(untrusted.text)")
        let otherPassword = try await est.oneTimePassword("line-4", label: "no certificate")
        let withoutCertificate = try await est.enroll(
            "line-4",
            "wanted",
            operation: "serverkeygen",
            ["--user", "plc:\(otherPassword)"]
        )
        #expect(withoutCertificate.status == 400 && withoutCertificate.text.contains("TLS client certificate"))
        let held = try await est.enroll("held", "wanted", operation: "serverkeygen", mutualTLS)
        #expect(held.status == 403 && held.text.contains("approval"), "\(held.text)")
        let tokenCannot = try await est.enroll("line-4", "wanted", operation: "serverkeygen", mutualTLS)
        #expect(tokenCannot.status == 501, "\(tokenCannot.text)")
        #expect(tokenCannot.text.contains("CKM_AES_CBC_PAD") || tokenCannot.text.contains("cannot wrap a private key"))
        #expect(tokenCannot.text.contains("/v1/cas/{ca}/device-keys"), "\(tokenCannot.text)")
        let keygens = try await est.audit("certificate.keygen")
        let deliveries = try await est.audit("enrollment.key.deliver")
        #expect(keygens.isEmpty && deliveries.isEmpty)
        let refusals = try await est.audit("enrollment.refused").map(\.event.outcome)
        #expect(refusals.contains { $0.contains("not_implemented") }, "\(refusals)")
        // The one-time password that asked without a certificate is still unspent.
        let secrets = try await est.api("GET", "/v1/enrollment/profiles/line-4/one-time-passwords")
        let entries = secrets.json["secrets"] as? [[String: Any]] ?? []
        let unspent = try #require(entries.first { $0["label"] as? String == "no certificate" }, "\(secrets.text)")
        #expect(unspent["used"] == nil || unspent["used"] is NSNull, "\(unspent)")
    }

    @Test func manualApprovalHoldsRequestsUntilAnOfficerDecides() async throws {
        let est = try await ESTServer.start(retryAfterSeconds: 7)
        try await est.profile("lab", ["approval": "manual"])
        let officer = try await est.server.credential(.officer)
        let password = try await est.oneTimePassword("lab", label: "sensor 9")
        try est.csr("sensor", subject: "/CN=sensor-9")
        let held = try await est.enroll("lab", "sensor", ["--user", "s9:\(password)"])
        #expect(held.status == 202 && held.headers["retry-after"] == "7", "\(held)")
        let again = try await est.enroll("lab", "sensor", ["--user", "s9:\(password)"])
        #expect(again.status == 202, "a poll with the spent one-time password is still answered: \(again.text)")
        #expect(try await est.audit("enrollment.pending").count == 1, "a poll holds no second request")

        let pending = try await est.api("GET", "/v1/enrollment/requests", token: officer)
        let requests = try #require(pending.json["requests"] as? [[String: Any]])
        #expect(requests.count == 1 && requests[0]["subject"] as? String == "CN=sensor-9", "\(pending.text)")
        #expect((requests[0]["client"] as? String)?.hasSuffix("(sensor 9)") == true)
        let id = try #require(requests[0]["id"] as? String)
        let auditor = try await est.server.credential(.auditor)
        let notAllowed = try await est.api("POST", "/v1/enrollment/requests/\(id)/approve", token: auditor)
        #expect(notAllowed.status == 403)
        let approved = try await est.api("POST", "/v1/enrollment/requests/\(id)/approve", token: officer)
        #expect(approved.status == 200 && approved.json["serial"] is String, "\(approved.text)")
        let twice = try await est.api("POST", "/v1/enrollment/requests/\(id)/approve", token: officer)
        #expect(twice.status == 409 && twice.errorCode == "already_decided", "\(twice.text)")
        let delivered = try await est.enroll("lab", "sensor", ["--user", "s9:\(password)"])
        #expect(delivered.status == 200, "\(delivered.text)")
        try await est.saveCA()
        try est.saveCertificate(delivered, as: "sensor")
        #expect(try est.verify("sensor"))
        let approvals = try await est.audit("enrollment.approve")
        #expect(approvals.count == 1 && approvals[0].event.actor.hasPrefix("credential/"), "\(approvals)")
        #expect(try await est.audit("certificate.enroll").count == 1, "a delivery after approval issues nothing new")

        // Rejected: the device hears why.
        let other = try await est.oneTimePassword("lab")
        try est.csr("rogue", subject: "/CN=rogue")
        #expect(try await est.enroll("lab", "rogue", ["--user", "r:\(other)"]).status == 202)
        let list = try await est.api("GET", "/v1/enrollment/requests?state=pending", token: officer)
        let rogue = try #require((list.json["requests"] as? [[String: Any]])?.first?["id"] as? String)
        let rejected = try await est.api(
            "POST",
            "/v1/enrollment/requests/\(rogue)/reject",
            ["reason": "not on the build list"],
            token: officer
        )
        #expect(rejected.status == 200 && rejected.json["state"] as? String == "rejected", "\(rejected.text)")
        let refused = try await est.enroll("lab", "rogue", ["--user", "r:\(other)"])
        #expect(refused.status == 403 && refused.text.contains("not on the build list"), "\(refused.text)")
        #expect(try await est.audit("enrollment.reject").count == 1)
        #expect(try await est.audit("certificate.enroll").count == 1)
    }
}
