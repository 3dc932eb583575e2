import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing

/// General messages OpenSSL 3.0 cannot send (RFC 9483 section 4.3: crlStatusList, rootCaCert), protected
/// with PBMAC1 (which OpenSSL 3.0 does not make either), from `Scripts/cmp_genm.py`: the answers are
/// MAC-protected with PBMAC1 under the same secret, the CRL verifies with OpenSSL against the CA, a
/// client that has the current CRL or root gets no value, and a wrong MAC is refused.
@Suite(.serialized, .stopsServers) struct PythonCMPTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/cmp_genm.py").path

    func genm(_ cmp: CMPServer, _ secret: (id: String, secret: String), _ items: String, mode: String = "")
        async throws -> [String: Any]
    {
        let result = try await runClient(
            "/usr/bin/python3",
            [Self.script, cmp.url("line"), secret.id, secret.secret, "ca.pem", items] + (mode.isEmpty ? [] : [mode]),
            currentDirectory: cmp.directory
        )
        try #require(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func crlsRootUpdateAndTemplateOverPBMAC1() async throws {
        let cmp = try await CMPServer.start()
        try await cmp.profile("line")
        let secret = try await cmp.oneTimeSecret("line")

        let answer = try await genm(cmp, secret, "crlStatusList,rootCaCert,certReqTemplate")
        #expect(answer["body"] as? Int == 22 && answer["protection"] as? String == "1.2.840.113549.1.5.14")
        #expect(answer["macVerified"] as? Bool == true)
        let items = try #require(answer["items"] as? [[String: Any]])
        #expect(
            items.map { $0["type"] as? String } == ["1.3.6.1.5.5.7.4.23", "1.3.6.1.5.5.7.4.18", "1.3.6.1.5.5.7.4.19"]
        )
        // crls: one CRL, signed by the CA.
        let crls = try #require(Data(base64Encoded: items[0]["value"] as? String ?? ""))
        guard case .constructed(let list) = try DER.parse(Array(crls)).content,
            let crl = list.first(where: { _ in true })
        else {
            Issue.record("crls is not a SEQUENCE OF CertificateList")
            return
        }
        try Data(crl.encodedBytes).write(to: URL(fileURLWithPath: cmp.directory + "/crl.der"))
        let verified = try runCommand(
            "openssl",
            ["crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.pem", "-noout"],
            currentDirectory: cmp.directory
        )
        #expect(verified.status == 0 && (verified.stdout + verified.stderr).contains("verify OK"), "\(verified.stderr)")
        // The client's root is the current one: no update. The template lists the policy's key types.
        #expect(items[1]["value"] == nil)
        let template = try #require(Data(base64Encoded: items[2]["value"] as? String ?? ""))
        #expect(template.count > 20)

        let current = try await genm(cmp, secret, "crlStatusList", mode: "current")
        #expect((current["items"] as? [[String: Any]])?.first?["value"] == nil)

        let tampered = try await genm(cmp, secret, "crlStatusList", mode: "tamper")
        #expect(tampered["body"] as? Int == 23 && tampered["failInfo"] as? [Int] == [1])  // badMessageCheck
        #expect(tampered["protection"] as? String == "1.2.840.113549.1.1.11")  // signed by the RA

        let unknown = try await genm(cmp, secret, "1.3.6.1.5.5.7.4.2")
        #expect(unknown["body"] as? Int == 23 && unknown["failInfo"] as? [Int] == [2])  // badRequest
        #expect(unknown["macVerified"] as? Bool == true)

        // The secret MACs need is in the store only sealed by the HSM: neither it nor its bytes appear.
        let record = try await cmp.server.api.store.read { try $0.enrollmentSecret(id: secret.id) }
        #expect(record?.sealed != nil && record?.sealingKey == "custos-enrollment-secret-kek")
        let store = try Data(contentsOf: URL(fileURLWithPath: cmp.server.directory + "/store/data.mdb"))
        #expect(store.range(of: Data(secret.secret.utf8)) == nil)
    }
}
