import Codecs
import Crypto
import CustosTestSupport
import Foundation
import Testing

/// ACME as RFC 8555 words it, driven by `ACMETestClient` (its JWS made in the test): accounts, the JWS
/// rules, orders for names and addresses, finalization, download, revocation, renewal information, and
/// key rollover. http-01 answers come from pebble-challtestsrv.
@Suite(.serialized) struct ACMEProtocolTests {
    @Test func directoryNoncesAndAccounts() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("web", ["termsOfService": "https://pki.acme.test/terms"])
        let directory = try await acme.est.curl([acme.directoryURL("web")])
        #expect(directory.status == 200)
        for field in ["newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "renewalInfo"] {
            #expect((directory.json[field] as? String)?.hasPrefix("\(acme.est.base)/acme/web/") == true, "\(field)")
        }
        #expect(
            (directory.json["meta"] as? [String: Any])?["termsOfService"] as? String == "https://pki.acme.test/terms"
        )
        // (-I prints the head a second time: fields appear twice.)
        let head = try await acme.est.curl(["-I", "\(acme.est.base)/acme/web/new-nonce"])
        #expect(head.status == 200 && head.headers["cache-control"]?.hasPrefix("no-store") == true)
        #expect(head.headers["replay-nonce"] != nil)
        let get = try await acme.est.curl(["\(acme.est.base)/acme/web/new-nonce"])
        #expect(
            get.status == 204 && get.headers["cache-control"] == "no-store" && get.headers["replay-nonce"]?.count == 32
        )
        #expect(try await acme.est.curl(["\(acme.est.base)/acme/nope/directory"]).status == 404)

        let client = ACMETestClient(acme)
        let refused = try await client.post(
            "\(client.base)/new-account",
            ["contact": ["mailto:ops@acme.test"]],
            useKey: true
        )
        #expect(refused.problem == "userActionRequired", "\(refused.text)")
        let created = try await client.register()
        #expect(created.status == 201, "\(created.text)")
        let location = try #require(created.headers["location"])
        #expect(created.json["status"] as? String == "valid")
        let again = try await client.register()
        #expect(again.status == 200 && again.headers["location"] == location)

        let stranger = ACMETestClient(acme)
        let missing = try await stranger.post(
            "\(stranger.base)/new-account",
            ["onlyReturnExisting": true],
            useKey: true
        )
        #expect(missing.status == 400 && missing.problem == "accountDoesNotExist", "\(missing.text)")
        let badContact = try await stranger.register(contact: ["mailto:not an address"])
        #expect(badContact.problem == "invalidContact", "\(badContact.text)")
        let phone = try await stranger.register(contact: ["tel:+4930123"])
        #expect(phone.problem == "unsupportedContact", "\(phone.text)")

        let updated = try await client.post(location, ["contact": ["mailto:pki@acme.test"]])
        #expect(updated.status == 200 && (updated.json["contact"] as? [String]) == ["mailto:pki@acme.test"])

        // Key rollover: the inner JWS by the new key, naming the account and the old key.
        let newKey = P256Key()
        let inner = try client.jws(
            ["account": location, "oldKey": ACMETestClient.jwk(client.key.publicKey)],
            url: "\(client.base)/key-change",
            nonce: nil,
            useKey: true,
            signer: newKey.key
        )
        let rolled = try await client.post(
            "\(client.base)/key-change",
            try JSONSerialization.jsonObject(with: inner)
        )
        #expect(rolled.status == 200, "\(rolled.text)")
        let oldKey = client.key
        client.key = newKey.key
        #expect(try await client.get(location).status == 200)
        let stale = try await client.post(location, nil, signer: oldKey)
        #expect(stale.problem == "malformed", "\(stale.text)")

        let deactivated = try await client.post(location, ["status": "deactivated"])
        #expect(deactivated.status == 200 && deactivated.json["status"] as? String == "deactivated")
        let after = try await client.order([("dns", "www.acme.test")])
        #expect(after.status == 403 && after.problem == "unauthorized", "\(after.text)")
        #expect(try await acme.audit("acme.account.key-change").count == 1)
        #expect(try await acme.audit("acme.account.deactivate").count == 1)
    }

    @Test func refusesWhatTheJWSRulesForbid() async throws {
        let acme = try await ACMEServer.start()
        defer { acme.stop() }
        try await acme.profile("web")
        let client = ACMETestClient(acme)
        let registered = try await client.register()
        try #require(client.account != nil, "\(registered.status) \(registered.headers) \(registered.text)")
        let newOrder = "\(client.base)/new-order"
        let order = ["identifiers": [["type": "dns", "value": "www.acme.test"]]]

        let nonce = try await client.nonce()
        #expect(try await client.post(newOrder, order, nonce: nonce).status == 201)
        let replayed = try await client.post(newOrder, order, nonce: nonce)
        #expect(replayed.status == 400 && replayed.problem == "badNonce", "\(replayed.text)")
        #expect(replayed.headers["replay-nonce"] != nil)
        let invented = try await client.post(newOrder, order, nonce: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        #expect(invented.problem == "badNonce")

        let wrongURL = try await client.post(newOrder, order, signedURL: "\(client.base)/new-account")
        #expect(wrongURL.status == 403 && wrongURL.problem == "unauthorized", "\(wrongURL.text)")
        let otherKey = try await client.post(newOrder, order, signer: P256Key().key)
        #expect(otherKey.problem == "malformed", "\(otherKey.text)")
        let hmac = try await client.post(newOrder, order, header: ["alg": "HS256"])
        #expect(hmac.problem == "badSignatureAlgorithm", "\(hmac.text)")
        let none = try await client.post(newOrder, order, header: ["alg": "none"])
        #expect(none.problem == "badSignatureAlgorithm", "\(none.text)")
        let byKey = try await client.post(newOrder, order, useKey: true)
        #expect(byKey.problem == "malformed", "\(byKey.text)")
        let unknownAccount = try await client.post(newOrder, order, header: ["kid": "\(client.base)/account/ffff"])
        #expect(unknownAccount.problem == "accountDoesNotExist", "\(unknownAccount.text)")
        let json = try await client.post(newOrder, order, contentType: "application/json")
        #expect(json.status == 415 && json.problem == "malformed")
        let huge = try await client.post(newOrder, order, body: Data(repeating: 0x20, count: 70_000))
        #expect(huge.status == 413 && huge.problem == "malformed", "\(huge.status) \(huge.text)")
        let garbage = try await client.post(newOrder, order, body: Data("{\"protected\":1}".utf8))
        #expect(garbage.status == 400 && garbage.problem == "malformed")
        let get = try await acme.est.curl([newOrder])
        #expect(get.status == 405 && get.problem == "malformed")

        let forbidden = try await client.order([
            ("dns", "www.example.org"), ("dns", "ok.acme.test"), ("ip", "10.1.2.3"),
        ])
        #expect(forbidden.status == 403 && forbidden.problem == "rejectedIdentifier", "\(forbidden.text)")
        let subproblems = forbidden.json["subproblems"] as? [[String: Any]] ?? []
        #expect(
            Set(subproblems.compactMap { ($0["identifier"] as? [String: String])?["value"] }) == [
                "www.example.org", "10.1.2.3",
            ]
        )
        let email = try await client.order([("email", "ops@acme.test")])
        #expect(email.problem == "unsupportedIdentifier", "\(email.text)")
        let window = try await client.post(
            newOrder,
            ["identifiers": [["type": "dns", "value": "a.acme.test"]], "notAfter": "2030-01-01T00:00:00Z"]
        )
        #expect(window.problem == "malformed", "\(window.text)")
        let refusals = try await acme.audit("acme.refused")
        #expect(refusals.count >= 10, "\(refusals.count)")
        #expect(try await acme.audit("certificate.enroll").isEmpty)
    }

    @Test func issuesForNamesAndAddressesAndChecksTheCSR() async throws {
        let acme = try await ACMEServer.start(challengeServerAnswers: true)
        defer { acme.stop() }
        try await acme.profile("web")
        let client = ACMETestClient(acme)
        try await client.register()
        let placed = try await client.order([("dns", "shop.acme.test"), ("ip", "127.0.0.1")])
        #expect(placed.status == 201, "\(placed.text)")
        let orderURL = try #require(placed.headers["location"])
        #expect(placed.json["status"] as? String == "pending")
        let finalizeURL = try #require(placed.json["finalize"] as? String)
        let early = try await client.post(finalizeURL, ["csr": try client.csr(["DNS:shop.acme.test", "IP:127.0.0.1"])])
        #expect(early.status == 403 && early.problem == "orderNotReady", "\(early.text)")

        for authorizationURL in placed.json["authorizations"] as? [String] ?? [] {
            let authorization = try await client.get(authorizationURL)
            let challenges = authorization.json["challenges"] as? [[String: Any]] ?? []
            let identifier = authorization.json["identifier"] as? [String: String] ?? [:]
            #expect(
                Set(challenges.compactMap { $0["type"] as? String })
                    == (identifier["type"] == "ip"
                        ? ["http-01", "tls-alpn-01"] : ["http-01", "dns-01", "tls-alpn-01"])
            )
            let http = try #require(challenges.first { $0["type"] as? String == "http-01" })
            let token = try #require(http["token"] as? String)
            try acme.challenges.manage("add-http01", ["token": token, "content": "\(token).\(client.thumbprint)"])
            let started = try await client.post(http["url"] as! String, [String: Any]())
            #expect(
                started.status == 200 && started.headers["link"]?.contains("\(authorizationURL)>;rel=\"up\"") == true,
                "\(started.text)"
            )
            let done = try await client.poll(authorizationURL) { $0["status"] as? String != "pending" }
            #expect(done.json["status"] as? String == "valid", "\(done.text)")
        }
        let ready = try await client.get(orderURL)
        #expect(ready.json["status"] as? String == "ready", "\(ready.text)")

        let extra = try await client.post(
            finalizeURL,
            ["csr": try client.csr(["DNS:shop.acme.test", "DNS:other.acme.test", "IP:127.0.0.1"])]
        )
        #expect(extra.problem == "badCSR" && extra.text.contains("other.acme.test"), "\(extra.text)")
        let short = try await client.post(finalizeURL, ["csr": try client.csr(["DNS:shop.acme.test"])])
        #expect(short.problem == "badCSR", "\(short.text)")
        let organisation = try await client.post(
            finalizeURL,
            ["csr": try client.csr(["DNS:shop.acme.test", "IP:127.0.0.1"], subject: "/CN=shop.acme.test/O=Evil")]
        )
        #expect(organisation.problem == "badCSR", "\(organisation.text)")
        #expect(try await acme.audit("certificate.enroll").isEmpty)

        let finalized = try await client.post(
            finalizeURL,
            ["csr": try client.csr(["DNS:shop.acme.test", "IP:127.0.0.1"])]
        )
        let certificateKeyFile = "\(acme.directory)/acme-csr-\(client.csrCount).key"
        #expect(finalized.status == 200 && finalized.json["status"] as? String == "valid", "\(finalized.text)")
        let again = try await client.post(finalizeURL, ["csr": try client.csr(["DNS:shop.acme.test", "IP:127.0.0.1"])])
        #expect(again.problem == "orderNotReady", "\(again.text)")
        let certificateURL = try #require(finalized.json["certificate"] as? String)
        let download = try await client.get(certificateURL)
        #expect(download.status == 200 && download.headers["content-type"] == "application/pem-certificate-chain")
        #expect(download.text.components(separatedBy: "BEGIN CERTIFICATE").count - 1 == 2)
        try download.body.write(to: URL(fileURLWithPath: "\(acme.directory)/shop.pem"))
        try acme.keep("\(acme.directory)/shop.pem", as: "shop")
        #expect(try await acme.verify("shop"))
        #expect(try acme.lint("shop") == [])
        let names = try runCommand(
            "openssl",
            ["x509", "-noout", "-ext", "subjectAltName", "-in", "shop.pem"],
            currentDirectory: acme.directory
        )
        .stdout
        #expect(names.contains("DNS:shop.acme.test") && names.contains("IP Address:127.0.0.1"), "\(names)")
        // Someone else's account cannot download it.
        let stranger = ACMETestClient(acme)
        try await stranger.register()
        #expect(try await stranger.get(certificateURL).status == 404)

        // Renewal information: the certificate id from its authority key identifier and serial.
        let keyID =
            try runCommand(
                "openssl",
                ["x509", "-noout", "-ext", "authorityKeyIdentifier", "-in", "shop.pem"],
                currentDirectory: acme.directory
            )
            .stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let akiBytes = keyID.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        var serialBytes = Hex.decode(try acme.serial("shop")) ?? []
        if let first = serialBytes.first, first & 0x80 != 0 { serialBytes.insert(0, at: 0) }
        let certificateID = Base64URL.encode(akiBytes) + "." + Base64URL.encode(serialBytes)
        let info = try await acme.est.curl(["\(client.base)/renewal-info/\(certificateID)"])
        #expect(info.status == 200 && info.headers["retry-after"] != nil, "\(info.text)")
        let window = info.json["suggestedWindow"] as? [String: String] ?? [:]
        #expect(window["start"] != nil && window["end"] != nil && window["start"]! < window["end"]!, "\(info.text)")

        // Revocation by the certificate's own key (a JWS with the key as jwk).
        let certificateKey = try P256Key(pemFile: certificateKeyFile)
        let der = try runCommand(
            "openssl",
            ["x509", "-in", "shop.pem", "-outform", "DER", "-out", "shop.der"],
            currentDirectory: acme.directory
        )
        #expect(der.status == 0)
        let body =
            [
                "certificate": Base64URL.encode(
                    Array(try Data(contentsOf: URL(fileURLWithPath: "\(acme.directory)/shop.der")))
                ), "reason": 1,
            ] as [String: Any]
        let wrongReason = try await stranger.post(
            "\(client.base)/revoke-cert",
            ["certificate": body["certificate"]!, "reason": 7]
        )
        #expect(
            wrongReason.problem == "badRevocationReason" || wrongReason.problem == "unauthorized",
            "\(wrongReason.text)"
        )
        let notTheirs = try await stranger.post("\(client.base)/revoke-cert", body)
        #expect(notTheirs.problem == "unauthorized", "\(notTheirs.text)")
        let revoked = try await stranger.post(
            "\(client.base)/revoke-cert",
            body,
            useKey: true,
            signer: certificateKey.key
        )
        #expect(revoked.status == 200, "\(revoked.text)")
        let twice = try await client.post("\(client.base)/revoke-cert", body)
        #expect(twice.problem == "alreadyRevoked", "\(twice.text)")
        let revokedInfo = try await acme.est.curl(["\(client.base)/renewal-info/\(certificateID)"])
        #expect(
            (revokedInfo.json["suggestedWindow"] as? [String: String])?["end"] ?? "z"
                < ISO8601DateFormatter().string(from: Date())
        )
    }
}

/// A P-256 key for a test, new or read from an openssl PEM file.
struct P256Key {
    let key: P256.Signing.PrivateKey
    init() { key = P256.Signing.PrivateKey() }
    init(pemFile: String) throws {
        key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: pemFile, encoding: .utf8))
    }
}
