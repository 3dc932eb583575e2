import Codecs
import Crypto
import CustosTestSupport
import Foundation
import Testing

/// A small ACME client for protocol and bad-input tests: JWS bodies built here (not by the server's
/// code) with a P-256 account key, sent with curl. Every part of a request can be spoiled on purpose.
final class ACMETestClient: @unchecked Sendable {
    let acme: ACMEServer
    let profile: String
    var key = P256.Signing.PrivateKey()
    /// The account URL once registered.
    var account: String?
    private var counter = 0
    /// The number of the last CSR made (its key is `acme-csr-<n>.key`).
    private(set) var csrCount = 0

    init(_ acme: ACMEServer, profile: String = "web") {
        self.acme = acme
        self.profile = profile
    }

    var base: String { "\(acme.est.base)/acme/\(profile)" }

    static func jwk(_ key: P256.Signing.PublicKey) -> [String: String] {
        let raw = Array(key.rawRepresentation)
        return [
            "kty": "EC", "crv": "P-256", "x": Base64URL.encode(Array(raw.prefix(32))),
            "y": Base64URL.encode(Array(raw.suffix(32))),
        ]
    }

    /// RFC 7638, written out here.
    static func thumbprint(_ key: P256.Signing.PublicKey) -> String {
        let jwk = jwk(key)
        let text = #"{"crv":"P-256","kty":"EC","x":"\#(jwk["x"]!)","y":"\#(jwk["y"]!)"}"#
        return Base64URL.encode(Array(SHA256.hash(data: Array(text.utf8))))
    }

    func nonce() async throws -> String {
        let answer = try await acme.est.curl(["\(base)/new-nonce"])
        guard let nonce = answer.headers["replay-nonce"] else { throw TestFailure("no nonce: \(answer.text)") }
        return nonce
    }

    /// A flattened JWS over `payload` (nil: POST-as-GET), with the header fields given or derived.
    func jws(
        _ payload: Any?,
        url: String,
        nonce: String?,
        useKey: Bool = false,
        signer: P256.Signing.PrivateKey? = nil,
        header extra: [String: Any] = [:]
    ) throws -> Data {
        let signing = signer ?? key
        var header: [String: Any] = ["alg": "ES256", "url": url]
        if let nonce { header["nonce"] = nonce }
        if useKey || account == nil { header["jwk"] = Self.jwk(signing.publicKey) } else { header["kid"] = account! }
        header.merge(extra) { $1 }
        let protected = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: header)))
        let body: String =
            if let payload { Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: payload))) } else { "" }
        let signature = try signing.signature(for: Array("\(protected).\(body)".utf8)).rawRepresentation
        return try JSONSerialization.data(withJSONObject: [
            "protected": protected, "payload": body, "signature": Base64URL.encode(Array(signature)),
        ])
    }

    /// POSTs a JWS (made by `jws` unless `body` is given) to `url`.
    func post(
        _ url: String,
        _ payload: Any?,
        useKey: Bool = false,
        signer: P256.Signing.PrivateKey? = nil,
        nonce: String? = nil,
        signedURL: String? = nil,
        header: [String: Any] = [:],
        body: Data? = nil,
        contentType: String = "application/jose+json"
    ) async throws -> HTTPResult {
        var fresh = nonce
        if fresh == nil && body == nil { fresh = try await self.nonce() }
        let data =
            try body
            ?? jws(
                payload,
                url: signedURL ?? url,
                nonce: fresh,
                useKey: useKey,
                signer: signer,
                header: header
            )
        counter += 1
        let file = "\(acme.directory)/jws-\(ObjectIdentifier(self).hashValue)-\(counter).json"
        try data.write(to: URL(fileURLWithPath: file))
        return try await acme.est.curl([
            "-X", "POST", "-H", "Content-Type: \(contentType)", "--data-binary", "@\(file)", url,
        ])
    }

    /// Registers the account (or finds it).
    @discardableResult
    func register(contact: [String] = ["mailto:ops@acme.test"]) async throws -> HTTPResult {
        let answer = try await post(
            "\(base)/new-account",
            ["termsOfServiceAgreed": true, "contact": contact],
            useKey: true
        )
        if answer.status == 201 || answer.status == 200 { account = answer.headers["location"] }
        return answer
    }

    /// An `externalAccountBinding` (RFC 8555 section 7.3.4): the account key MACed with the external key.
    func binding(kid: String, hmacKey: String, url: String? = nil) throws -> [String: String] {
        let protected = Base64URL.encode(
            Array(
                try JSONSerialization.data(withJSONObject: [
                    "alg": "HS256", "kid": kid, "url": url ?? "\(base)/new-account",
                ])
            )
        )
        let payload = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: Self.jwk(key.publicKey))))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(protected).\(payload)".utf8),
            using: SymmetricKey(data: Base64URL.decode(hmacKey) ?? [])
        )
        return ["protected": protected, "payload": payload, "signature": Base64URL.encode(Array(mac))]
    }

    /// Places an order; returns the answer (its `location` header is the order URL).
    func order(_ identifiers: [(String, String)]) async throws -> HTTPResult {
        try await post("\(base)/new-order", ["identifiers": identifiers.map { ["type": $0.0, "value": $0.1] }])
    }

    /// POST-as-GET.
    func get(_ url: String) async throws -> HTTPResult { try await post(url, nil) }

    /// Polls `url` until `done` holds or `seconds` pass; returns the last answer.
    func poll(_ url: String, seconds: Double = 30, until done: ([String: Any]) -> Bool) async throws -> HTTPResult {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let answer = try await get(url)
            if done(answer.json) || Date() > deadline { return answer }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    var thumbprint: String { Self.thumbprint(key.publicKey) }

    /// A whole order with http-01 answered by pebble-challtestsrv (the server must validate against
    /// it); returns the certificate URL.
    func issue(_ names: [String]) async throws -> String {
        let placed = try await order(names.map { ("dns", $0) })
        try #require(placed.status == 201, "\(placed.text)")
        for authorizationURL in placed.json["authorizations"] as? [String] ?? [] {
            let authorization = try await get(authorizationURL)
            let challenges = authorization.json["challenges"] as? [[String: Any]] ?? []
            let http = try #require(challenges.first { $0["type"] as? String == "http-01" })
            let token = try #require(http["token"] as? String)
            try acme.challenges.manage("add-http01", ["token": token, "content": "\(token).\(thumbprint)"])
            _ = try await post(http["url"] as! String, [String: Any]())
            let done = try await poll(authorizationURL) { $0["status"] as? String != "pending" }
            try #require(done.json["status"] as? String == "valid", "\(done.text)")
        }
        let finalizeURL = try #require(placed.json["finalize"] as? String)
        let finalized = try await post(finalizeURL, ["csr": try csr(names.map { "DNS:\($0)" })])
        try #require(finalized.json["status"] as? String == "valid", "\(finalized.text)")
        return try #require(finalized.json["certificate"] as? String)
    }

    /// A CSR for `names` (`DNS:…`/`IP:…`) with a fresh key, DER base64url.
    func csr(_ names: [String], subject: String = "/") throws -> String {
        counter += 1
        csrCount = counter
        let name = "acme-csr-\(counter)"
        let result = try runCommand(
            "openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(name).key",
                "-subj", subject, "-addext", "subjectAltName=" + names.joined(separator: ","), "-outform", "DER",
                "-out",
                "\(name).der",
            ],
            currentDirectory: acme.directory
        )
        guard result.status == 0 else { throw TestFailure("openssl req: \(result.stderr)") }
        return Base64URL.encode(Array(try Data(contentsOf: URL(fileURLWithPath: "\(acme.directory)/\(name).der"))))
    }
}

extension HTTPResult {
    /// The problem document's type without the ACME prefix (`badNonce`, …).
    var problem: String? {
        (json["type"] as? String).map { $0.replacingOccurrences(of: "urn:ietf:params:acme:error:", with: "") }
    }
}
