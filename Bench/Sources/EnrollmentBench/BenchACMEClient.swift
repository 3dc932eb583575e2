import Codecs
import Crypto
import Foundation
import NIOHTTP1
import SwiftASN1
import X509

/// One ACME account of the load: registers, then places orders one after the other until the deadline,
/// each for a new name: newOrder, the authorization, http-01 answered by `ChallengeResponder`, polls
/// until valid, finalize with a fresh P-256 CSR, polls the order, downloads the certificate. The
/// same client code drives Custos and pebble.
struct BenchACMEClient {
    let directoryPath: String
    let port: Int
    let index: Int
    let responder: ChallengeResponder
    /// Between polls of an authorization or order (the same for both servers).
    let pollInterval: Duration

    struct Directory {
        var newNonce: String
        var newAccount: String
        var newOrder: String
    }

    /// Completed orders until `deadline`, and the HTTP requests they took.
    func run(until deadline: ContinuousClock.Instant) async throws -> (orders: Int, requests: Int) {
        try await BenchHTTPSConnection.with(host: "localhost", port: port) { connection in
            var session = try await Session.start(&connection, directoryPath: directoryPath)
            var completed = 0
            var sequence = 0
            let registration = session.requests
            while ContinuousClock.now < deadline {
                sequence += 1
                try await order(name: "c\(index)-\(sequence).bench.test", &session, &connection)
                completed += 1
            }
            return (completed, session.requests - registration)
        }
    }

    private func order(name: String, _ session: inout Session, _ connection: inout BenchHTTPSConnection) async throws {
        let placed = try await session.post(
            session.directory.newOrder,
            ["identifiers": [["type": "dns", "value": name]]],
            &connection
        )
        guard placed.status == 201, let orderURL = placed.headers.first(name: "Location"),
            let order = placed.json, let authorizationURL = (order["authorizations"] as? [String])?.first,
            let finalizeURL = order["finalize"] as? String
        else { throw BenchACMEFailure("newOrder: \(placed.status) \(placed.text)") }
        let authorization = try await session.post(authorizationURL, nil, &connection)
        guard let challenges = authorization.json?["challenges"] as? [[String: Any]],
            let http = challenges.first(where: { $0["type"] as? String == "http-01" }),
            let token = http["token"] as? String, let challengeURL = http["url"] as? String
        else { throw BenchACMEFailure("authorization: \(authorization.text)") }
        responder.set(token, token + "." + session.thumbprint)
        defer { responder.remove(token) }
        _ = try await session.post(challengeURL, [String: Any](), &connection)
        let giveUp = ContinuousClock.now + .seconds(60)
        while true {
            let state = try await session.post(authorizationURL, nil, &connection)
            let status = state.json?["status"] as? String
            if status == "valid" { break }
            guard status == "pending", ContinuousClock.now < giveUp else {
                throw BenchACMEFailure("port \(port): authorization is \(state.text)")
            }
            try await Task.sleep(for: pollInterval)
        }
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(
            version: .v1,
            subject: DistinguishedName(),
            privateKey: .init(key),
            attributes: CertificateSigningRequest.Attributes([
                .init(
                    ExtensionRequest(
                        extensions: try Certificate.Extensions { SubjectAlternativeNames([.dnsName(name)]) }
                    )
                )
            ]),
            signatureAlgorithm: .ecdsaWithSHA256
        )
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        var finalized = try await session.post(
            finalizeURL,
            ["csr": Base64URL.encode(serializer.serializedBytes)],
            &connection
        )
        while finalized.json?["status"] as? String != "valid" {
            guard ["processing", "ready", "pending"].contains(finalized.json?["status"] as? String ?? ""),
                ContinuousClock.now < giveUp
            else {
                throw BenchACMEFailure("finalize: \(finalized.status) \(finalized.text)")
            }
            try await Task.sleep(for: pollInterval)
            finalized = try await session.post(orderURL, nil, &connection)
        }
        guard let certificateURL = finalized.json?["certificate"] as? String else {
            throw BenchACMEFailure("a valid order without certificate: \(finalized.text)")
        }
        let certificate = try await session.post(certificateURL, nil, &connection)
        guard certificate.status == 200, certificate.text.contains("BEGIN CERTIFICATE") else {
            throw BenchACMEFailure("download: \(certificate.status)")
        }
    }

    /// The account key, its account URL and the next nonce.
    struct Session {
        let key = P256.Signing.PrivateKey()
        var directory: Directory
        var account: String?
        var nonce: String
        /// JWS POSTs sent.
        var requests = 0

        var jwk: [String: String] {
            let raw = Array(key.publicKey.rawRepresentation)
            return [
                "kty": "EC", "crv": "P-256", "x": Base64URL.encode(Array(raw.prefix(32))),
                "y": Base64URL.encode(Array(raw.suffix(32))),
            ]
        }
        var thumbprint: String {
            let jwk = jwk
            let text = #"{"crv":"P-256","kty":"EC","x":"\#(jwk["x"]!)","y":"\#(jwk["y"]!)"}"#
            return Base64URL.encode(Array(SHA256.hash(data: Array(text.utf8))))
        }

        static func start(_ connection: inout BenchHTTPSConnection, directoryPath: String) async throws -> Session {
            let answer = try await connection.request(.GET, directoryPath)
            guard let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any],
                let newNonce = object["newNonce"] as? String, let newAccount = object["newAccount"] as? String,
                let newOrder = object["newOrder"] as? String
            else { throw BenchACMEFailure("directory: \(answer.status)") }
            let fresh = try await connection.request(.HEAD, Self.path(newNonce))
            guard let nonce = fresh.headers.first(name: "Replay-Nonce") else { throw BenchACMEFailure("no nonce") }
            var session = Session(
                directory: Directory(newNonce: newNonce, newAccount: newAccount, newOrder: newOrder),
                nonce: nonce
            )
            let account = try await session.post(newAccount, ["termsOfServiceAgreed": true], &connection)
            guard account.status == 201 || account.status == 200, let url = account.headers.first(name: "Location")
            else {
                throw BenchACMEFailure("newAccount: \(account.status) \(account.text)")
            }
            session.account = url
            return session
        }

        static func path(_ url: String) -> String {
            guard let components = URLComponents(string: url) else { return url }
            return components.percentEncodedPath
        }

        struct Reply {
            var status: Int
            var headers: HTTPHeaders
            var body: [UInt8]
            var text: String { String(decoding: body, as: UTF8.self) }
            var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
        }

        /// A JWS POST (payload nil: POST-as-GET); takes the answer's nonce for the next one, and tries
        /// once more with a fresh nonce after `badNonce`.
        mutating func post(_ url: String, _ payload: Any?, _ connection: inout BenchHTTPSConnection) async throws
            -> Reply
        {
            for _ in 0..<2 {
                var header: [String: Any] = ["alg": "ES256", "nonce": nonce, "url": url]
                if let account { header["kid"] = account } else { header["jwk"] = jwk }
                let protected = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: header)))
                let body =
                    try payload.map { Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: $0))) } ?? ""
                let signature = try key.signature(for: Array("\(protected).\(body)".utf8)).rawRepresentation
                let jws = try JSONSerialization.data(withJSONObject: [
                    "protected": protected, "payload": body, "signature": Base64URL.encode(Array(signature)),
                ])
                requests += 1
                let answer = try await connection.request(
                    .POST,
                    Self.path(url),
                    contentType: "application/jose+json",
                    body: Array(jws)
                )
                if let next = answer.headers.first(name: "Replay-Nonce") { nonce = next }
                let reply = Reply(status: answer.status, headers: answer.headers, body: answer.body)
                if answer.status == 400, reply.text.contains("badNonce") { continue }
                return reply
            }
            throw BenchACMEFailure("badNonce twice")
        }
    }
}
