import Crypto
import CustosTestSupport
import Foundation
import PKCS11
import Testing

/// Faults from the real module (through the fault-injecting wrapper) during batches: no signature is
/// wrong or missing; items either verify or carry an error.
@Suite(.serialized, .stopsServers) struct SigningFaultTests {
    @Test(arguments: [ReturnValue.sessionHandleInvalid, .deviceRemoved, .userNotLoggedIn])
    func aFaultDuringABatchLosesNoSignature(_ fault: ReturnValue) async throws {
        let faults = try SoftHSMEnvironment.shared.faultInjector()
        let server = try await ServerFixture(modulePath: faults.modulePath)
        let created = try await server.createKey("line", "ec-p256")
        let key = PublicKey.p256(try P256.Signing.PublicKey(pemRepresentation: created.json["publicKey"] as! String))
        let signer = try await server.credential(.signer, keys: ["line"])
        let digests = (0..<300).map { Array(SHA256.hash(data: Data("unit \($0)".utf8))) }
        let items = digests.map { ["digest": Data($0).base64EncodedString()] }

        faults.inject("C_Sign", fault, count: 1)
        let result = try await server.request("POST", "/v1/keys/line/sign", token: signer, json: ["items": items])
        #expect(result.status == 200, "\(result.text.prefix(300))")
        let results = try #require(result.json["results"] as? [[String: Any]])
        #expect(results.count == 300)
        var verified = 0
        for (index, item) in results.enumerated() {
            if let signature = item["signature"] as? String {
                let valid = key.isValidSignature(
                    Array(try Data(base64: signature)),
                    scheme: .ecdsa(.sha256),
                    input: .digest(digests[index])
                )
                #expect(valid, "item \(index) carries a signature that does not verify")
                verified += 1
            } else {
                #expect(item["error"] != nil, "item \(index) has neither a signature nor an error")
            }
        }
        // One injected failure is repaired by the pool and the interrupted run is signed again.
        #expect(verified == 300)
        #expect(faults.calls("C_Sign") >= 301)
        #expect(server.pool.statistics.errors[fault.name, default: 0] >= 1)
    }
}
