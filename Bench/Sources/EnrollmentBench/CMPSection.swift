import CMP
import Crypto
import CustosX509
import Foundation
import SwiftASN1
import X509

/// The CMP load client: `clients` kept-alive HTTPS connections, each sending irs one after the other for
/// `seconds`, every ir a new transaction (fresh transactionID, nonce and salt) MAC-protected with
/// PasswordBasedMac (SHA-256, 500 iterations, HMAC-SHA-256, as OpenSSL's client) under the profile's
/// shared secret and asking for implicit confirmation, so that one message is one certificate. The
/// request (a P-256 key and its POP signature) is the same in every message. The messages are made before
/// the clock starts (up to 150 per client and second; more are made on the way), so that the client's
/// MACs do not share the two cores with the server in the measured time, as wrk's requests cost little.
/// Returns irs answered with a certificate per second and the messages that were not.
func cmpIRsPerSecond(port: Int, path: String, clients: Int, seconds: Int, reference: String, secret: String)
    async throws -> (rate: Double, failures: Int)
{
    let key = P256.Signing.PrivateKey()
    var request = try CertReqMessage(
        certReqID: 0,
        template: CertTemplate(
            subject: try DistinguishedName { CommonName("bench cmp device") },
            publicKeyInfo: Array(key.publicKey.derRepresentation)
        )
    )
    request.proofOfPossession = .signature(
        algorithm: CMSAlgorithmIdentifier([1, 2, 840, 10045, 4, 3, 2]),
        signature: Array(try key.signature(for: request.certRequestDER).derRepresentation),
        hasInput: false
    )
    let body = PKIBody.ir([request])
    let sender = GeneralName.directoryName(try DistinguishedName { CommonName("bench cmp device") })
    let recipient = GeneralName.directoryName(try DistinguishedName { CommonName("Bench CA") })
    func message() throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let random = { (count: Int) in (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        let mac = PasswordBasedMAC(salt: random(16), oneWayFunction: .sha256, iterations: 500, mac: .sha256)
        let header = PKIHeader(
            pvno: 2,
            sender: sender,
            recipient: recipient,
            messageTime: try X509Time.generalizedTime(Int64(Date().timeIntervalSince1970)),
            protectionAlgorithm: try mac.algorithmIdentifier,
            senderKID: Array(reference.utf8),
            transactionID: random(16),
            senderNonce: random(16),
            generalInfo: [InfoTypeAndValue(CMPObjectIdentifiers.implicitConfirm, value: [0x05, 0x00])]
        )
        let part = try PKIMessage.protectedPart(header: header, body: body)
        let protection = mac.authenticationCode(secret: Array(secret.utf8), data: part)
        return try PKIMessage(header: header, body: body, protection: protection).der
    }
    let prepared = try (0..<clients).map { _ in try (0..<(150 * seconds)).map { _ in try message() } }
    let start = ContinuousClock.now
    let deadline = start + .seconds(seconds)
    let (issued, failures) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for client in 0..<clients {
            let messages = prepared[client]
            group.addTask {
                try await BenchHTTPSConnection.with(host: "localhost", port: port) { connection in
                    var counts = (0, 0)
                    var next = 0
                    while ContinuousClock.now < deadline {
                        let body = next < messages.count ? messages[next] : try message()
                        next += 1
                        let answer = try await connection.request(
                            .POST,
                            path,
                            contentType: "application/pkixcmp",
                            body: body
                        )
                        let reply = try? PKIMessage(derEncoded: answer.body)
                        if case .ip(let content) = reply?.body, content.responses.first?.certificate != nil {
                            counts.0 += 1
                        } else {
                            counts.1 += 1
                        }
                    }
                    return counts
                }
            }
        }
        return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
    }
    let elapsed = ContinuousClock.now - start
    let measured = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(issued) / measured, failures)
}
