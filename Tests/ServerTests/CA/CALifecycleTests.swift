import CA
import Codecs
import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Server
import SwiftASN1
import Testing
import X509

/// Sub-CAs of an external parent, renewal with and without a new key, retirement.
extension CARouteTests {
    @Test func externalParentRenewalAndRetirement() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-ca-life")
        // An existing PKI outside Custos: a root made by openssl.
        let extRoot = try runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
                "\(directory)/ext-root.key", "-subj", "/CN=Existing Root/O=Elsewhere", "-days", "3650", "-out",
                "\(directory)/ext-root.pem", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ]
        )
        try #require(extRoot.status == 0, "\(extRoot.stderr)")
        let pending = try await server.request(
            "POST",
            "/v1/cas",
            token: server.adminToken,
            json: [
                "id": "ext-sub", "subject": "CN=Custos Line CA,O=Acme", "algorithm": "ec-p256", "external": true,
                "pathLength": 0,
            ]
        )
        #expect(pending.status == 201 && pending.json["state"] as? String == "pending", "\(pending.text)")
        #expect(pending.json["kind"] as? String == "external-subordinate")
        let csr = try #require(pending.json["csr"] as? String)
        let csrPath = try writeFile(directory, "ext-sub.csr", Data(csr.utf8))
        let checked = try runCommand("openssl", ["req", "-in", csrPath, "-noout", "-verify", "-text"])
        #expect(
            (checked.stdout + checked.stderr).contains("verify OK") && checked.stdout.contains("CA:TRUE"),
            "\(checked.stdout) \(checked.stderr)"
        )
        // Pending: it cannot issue yet.
        let leafCSR = try makeCSR(directory, name: "ext-leaf", newkey: Self.leafKeys[0].newkey, subject: "/CN=ext leaf")
        let early = try await server.request(
            "POST",
            "/v1/cas/ext-sub/certificates",
            token: server.adminToken,
            json: ["csr": leafCSR, "category": "device"]
        )
        #expect(early.status == 409 && early.errorCode == "ca_not_usable", "\(early.text)")
        // The external root signs the CSR.
        try
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            .write(toFile: "\(directory)/sub.ext", atomically: true, encoding: .utf8)
        let signed = try runCommand(
            "openssl",
            [
                "x509", "-req", "-in", csrPath, "-CA", "\(directory)/ext-root.pem", "-CAkey",
                "\(directory)/ext-root.key",
                "-CAcreateserial", "-days", "1000", "-extfile", "\(directory)/sub.ext", "-out",
                "\(directory)/ext-sub.pem",
            ]
        )
        try #require(signed.status == 0, "\(signed.stderr)")
        let subPEM = try String(contentsOfFile: "\(directory)/ext-sub.pem", encoding: .utf8)
        let rootPEM = try String(contentsOfFile: "\(directory)/ext-root.pem", encoding: .utf8)
        // Refused: a certificate without the parent, and one for another key.
        let noChain = try await server.request(
            "PUT",
            "/v1/cas/ext-sub/certificate",
            token: server.adminToken,
            json: ["certificate": subPEM, "issuerChain": ""]
        )
        #expect(noChain.status == 400, "\(noChain.text)")
        let wrongKey = try await server.request(
            "PUT",
            "/v1/cas/ext-sub/certificate",
            token: server.adminToken,
            json: ["certificate": rootPEM, "issuerChain": rootPEM]
        )
        #expect(wrongKey.status == 400 && wrongKey.errorMessage.contains("does not certify"), "\(wrongKey.text)")
        let imported = try await server.request(
            "PUT",
            "/v1/cas/ext-sub/certificate",
            token: server.adminToken,
            json: ["certificate": subPEM, "issuerChain": rootPEM]
        )
        #expect(imported.status == 200 && imported.json["state"] as? String == "active", "\(imported.text)")
        // Now it issues, and the leaf chains to the external root.
        let leaf = try await server.request(
            "POST",
            "/v1/cas/ext-sub/certificates",
            token: server.adminToken,
            json: ["csr": leafCSR, "category": "device"]
        )
        try #require(leaf.status == 201, "\(leaf.text)")
        let chain = leaf.json["chain"] as? [String] ?? []
        #expect(chain.count == 2, "sub-CA and the external root")
        let leafPath = try writeFile(directory, "ext-leaf.pem", Data((leaf.json["certificate"] as! String).utf8))
        let verify = try runCommand(
            "openssl",
            [
                "verify", "-x509_strict", "-CAfile", "\(directory)/ext-root.pem", "-untrusted",
                "\(directory)/ext-sub.pem", leafPath,
            ]
        )
        #expect(verify.stdout.contains(": OK"), "\(verify.stdout) \(verify.stderr)")
        // Its CRL is signed by the HSM key and verifies with the imported certificate.
        let crl = try await server.request("GET", "/crl/ext-sub.crl", token: nil)
        let crlPath = try writeFile(directory, "ext-sub.crl", crl.body)
        let crlCheck = try runCommand(
            "openssl",
            ["crl", "-inform", "DER", "-in", crlPath, "-CAfile", "\(directory)/ext-sub.pem", "-noout", "-verify"]
        )
        #expect((crlCheck.stdout + crlCheck.stderr).contains("verify OK"), "\(crlCheck.stderr)")
        // A CA made here cannot take an imported certificate.
        try await createCA(server, id: "life-root", algorithm: "ec-p256", subject: "CN=Life Root", pathLength: 1)
        let notExternal = try await server.request(
            "PUT",
            "/v1/cas/life-root/certificate",
            token: server.adminToken,
            json: ["certificate": subPEM, "issuerChain": rootPEM]
        )
        #expect(notExternal.status == 409, "\(notExternal.text)")

        // Renewal: same key, then a new key; the subject stays, the serial changes.
        let before = try await server.request("GET", "/v1/cas/life-root", token: server.adminToken)
        let sameKey = try await server.request("POST", "/v1/cas/life-root/renew", token: server.adminToken, json: [:])
        #expect(
            sameKey.status == 200 && sameKey.json["serial"] as? String != before.json["serial"] as? String,
            "\(sameKey.text)"
        )
        #expect(
            sameKey.json["previousCertificates"] as? Int == 1 && sameKey.json["subject"] as? String == "CN=Life Root"
        )
        func publicKey(_ pem: String) throws -> String {
            try runCommand("openssl", ["x509", "-noout", "-pubkey"], input: Data(pem.utf8)).stdout
        }
        #expect(
            try publicKey(sameKey.json["certificate"] as! String) == publicKey(before.json["certificate"] as! String)
        )
        let newKey = try await server.request(
            "POST",
            "/v1/cas/life-root/renew",
            token: server.adminToken,
            json: ["rekey": true]
        )
        #expect(newKey.status == 200 && newKey.json["previousCertificates"] as? Int == 2, "\(newKey.text)")
        #expect(
            try publicKey(newKey.json["certificate"] as! String) != publicKey(before.json["certificate"] as! String)
        )
        let renewedRoot = try writeFile(directory, "life-root.pem", Data((newKey.json["certificate"] as! String).utf8))
        let afterCSR = try makeCSR(
            directory,
            name: "after",
            newkey: Self.leafKeys[0].newkey,
            subject: "/CN=after renewal"
        )
        let after = try await server.request(
            "POST",
            "/v1/cas/life-root/certificates",
            token: server.adminToken,
            json: ["csr": afterCSR, "category": "device"]
        )
        try #require(after.status == 201, "\(after.text)")
        let afterPath = try writeFile(directory, "after.pem", Data((after.json["certificate"] as! String).utf8))
        let afterVerify = try runCommand("openssl", ["verify", "-CAfile", renewedRoot, afterPath])
        #expect(afterVerify.stdout.contains(": OK"), "\(afterVerify.stdout) \(afterVerify.stderr)")
        // An external sub-CA is renewed by its parent, not here.
        let externalRenew = try await server.request(
            "POST",
            "/v1/cas/ext-sub/renew",
            token: server.adminToken,
            json: [:]
        )
        #expect(externalRenew.status == 409, "\(externalRenew.text)")

        // Retirement: no more issuance, the CRL is still served.
        let retired = try await server.request("POST", "/v1/cas/life-root/retire", token: server.adminToken)
        #expect(retired.status == 200 && retired.json["state"] as? String == "retired", "\(retired.text)")
        let refused = try await server.request(
            "POST",
            "/v1/cas/life-root/certificates",
            token: server.adminToken,
            json: ["csr": afterCSR, "category": "device"]
        )
        #expect(refused.status == 409 && refused.errorMessage.contains("retired"), "\(refused.text)")
        let retiredCRL = try await server.request("GET", "/crl/life-root.crl", token: nil)
        #expect(retiredCRL.status == 200)
    }
}
