import ACME
import CA
import Codecs
import CustosX509
import Foundation
import HSM
import NIOSSL
import PKCS11

/// One ACME conversation (RFC 8555) of Custos's RA with an upstream CA: the directory, nonces, requests
/// as flattened JWS signed by the RA's HSM key (its account key), and the account found or made, with
/// the link's external account binding MACed inside the HSM.
struct ACMEUpstreamSession {
    var target: UpstreamTarget
    let http: UpstreamHTTP
    let tls: TLSConfiguration
    /// The directory's URLs by name (`newNonce`, `newAccount`, `newOrder`, `revokeCert`).
    let directory: [String: String]
    private let jwk: JWK
    private var nonce: String?
    private var account: String?

    /// An answer: its status, headers that matter, and its body (JSON when it is).
    struct Reply {
        let status: Int
        let location: String?
        let retryAfter: Int?
        let body: [UInt8]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    /// Reads the directory at the link's URL.
    static func open(_ target: UpstreamTarget, http: UpstreamHTTP, tls: TLSConfiguration) async throws
        -> ACMEUpstreamSession
    {
        let answer = try await http.send(
            [],
            to: target.link.url,
            method: .GET,
            headers: [:],
            tls: tls,
            maxBytes: 64 * 1024,
            deadline: target.deadline
        )
        guard answer.status == .ok,
            let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any],
            let newNonce = object["newNonce"] as? String, let newAccount = object["newAccount"] as? String,
            let newOrder = object["newOrder"] as? String
        else { throw UpstreamHTTP.Failure(description: "its directory is not an ACME directory") }
        var directory = ["newNonce": newNonce, "newAccount": newAccount, "newOrder": newOrder]
        directory["revokeCert"] = object["revokeCert"] as? String
        let jwk: JWK
        do { jwk = try JWK(subjectPublicKeyInfo: try derBytes(target.raKey.publicKey)) } catch {
            throw CAError(.caNotUsable, "the RA key of CA \(target.ca) cannot be an ACME account key: \(error)")
        }
        return ACMEUpstreamSession(target: target, http: http, tls: tls, directory: directory, jwk: jwk)
    }

    private init(
        target: UpstreamTarget,
        http: UpstreamHTTP,
        tls: TLSConfiguration,
        directory: [String: String],
        jwk: JWK
    ) {
        self.target = target
        self.http = http
        self.tls = tls
        self.directory = directory
        self.jwk = jwk
    }

    /// Finds the RA's account (known from an earlier exchange, or asked with onlyReturnExisting), or makes
    /// it, bound to the link's external account key if it has one.
    mutating func useAccount(_ accounts: ACMEAccountURLs) async throws {
        let key = "\(target.ca)/\(target.link.raKeyName)"
        if let known = await accounts[key] {
            account = known
            return
        }
        let newAccount = directory["newAccount"]!
        let existing = try await post(newAccount, payload: ["onlyReturnExisting": true], refusing: false)
        if existing.status == 200, let location = existing.location {
            account = location
        } else {
            var payload: [String: Any] = ["termsOfServiceAgreed": true]
            if let binding = try await externalAccountBinding(url: newAccount) {
                payload["externalAccountBinding"] = binding
            }
            let made = try await post(newAccount, payload: payload)
            guard let location = made.location else { throw refused("made the account without its URL") }
            account = location
        }
        await accounts.set(key, account!)
    }

    /// POSTs a JWS with `payload` (nil: POST-as-GET) to `url`, signed by the account key (by `kid` once the
    /// account is known, else with the `jwk`); a badNonce is retried with the nonce it brings. A problem
    /// document is the upstream's refusal unless `refusing` is false.
    mutating func post(_ url: String, payload: [String: Any]?, refusing: Bool = true) async throws -> Reply {
        for _ in 0..<3 {
            let body = try await signed(url: url, payload: payload)
            let answer = try await http.send(
                body,
                to: url,
                headers: ["Content-Type": "application/jose+json"],
                tls: tls,
                maxBytes: 256 * 1024,
                deadline: target.deadline
            )
            nonce = answer.headers.first(name: "Replay-Nonce")
            let reply = Reply(
                status: Int(answer.status.code),
                location: answer.headers.first(name: "Location"),
                retryAfter: answer.headers.first(name: "Retry-After").flatMap(Int.init),
                body: answer.body
            )
            if reply.status >= 500 { throw UpstreamHTTP.Failure(description: "it answered HTTP \(reply.status)") }
            guard reply.status >= 400 else { return reply }
            let type = reply.json["type"] as? String ?? ""
            if type.hasSuffix(":badNonce") { continue }
            if type.hasSuffix(":rateLimited") {
                throw CAError(.upstreamUnavailable, "upstream CA \(target.ca) limits the rate: \(Self.detail(reply))")
            }
            guard refusing else { return reply }
            throw refused("refused: \(type) \(Self.detail(reply))")
        }
        throw UpstreamHTTP.Failure(description: "it refused three fresh nonces")
    }

    /// The flattened JWS (RFC 8555 section 6.2) of `payload` for `url`.
    private mutating func signed(url: String, payload: [String: Any]?) async throws -> [UInt8] {
        if nonce == nil { nonce = try await freshNonce() }
        var header: [String: Any] = ["alg": jwk.algorithms.first!, "nonce": nonce!, "url": url]
        if let account { header["kid"] = account } else { header["jwk"] = try Self.object(jwk.canonicalJSON) }
        nonce = nil
        let protected = Base64URL.encode(try Self.json(header))
        let body = try payload.map { Base64URL.encode(try Self.json($0)) } ?? ""
        let input = Array("\(protected).\(body)".utf8)
        let scheme: SignatureScheme = target.raKey.algorithm == .ecP384 ? .ecdsa(.sha384) : .ecdsa(.sha256)
        // PKCS#11 ECDSA gives r‖s, which is what JWS's ES256/ES384 carry (RFC 7518 section 3.4).
        let signature = try await target.raKey.keyStore.sign(
            target.raKey.reference,
            scheme: scheme,
            input: .message(input)
        )
        return Array(
            try JSONSerialization.data(
                withJSONObject: ["protected": protected, "payload": body, "signature": Base64URL.encode(signature)],
                options: [.sortedKeys]
            )
        )
    }

    /// The external account binding (RFC 8555 section 7.3.4): a JWS MACed with HS256 by the upstream's key,
    /// over the account key, computed in the HSM with the key unwrapped only there.
    private func externalAccountBinding(url: String) async throws -> [String: Any]? {
        guard let keyID = target.link.externalAccountKeyID, let wrapped = target.link.externalAccountKey,
            let label = target.link.externalAccountKEK
        else { return nil }
        let keyStore = target.raKey.keyStore
        guard let kek = try await keyStore.findSecretKey(label: label) else {
            throw CAError(
                .internalError,
                "the key \(label) that wraps CA \(target.ca)'s account MAC key is not in the token"
            )
        }
        let header: [String: Any] = ["alg": "HS256", "kid": keyID, "url": url]
        let protected = Base64URL.encode(try Self.json(header))
        let payload = Base64URL.encode(Array(jwk.canonicalJSON.utf8))
        let mac = try await keyStore.hmacSHA256(wrapped: wrapped, kek: kek, data: Array("\(protected).\(payload)".utf8))
        return ["protected": protected, "payload": payload, "signature": Base64URL.encode(mac)]
    }

    private func freshNonce() async throws -> String {
        let answer = try await http.send(
            [],
            to: directory["newNonce"]!,
            method: .GET,
            headers: [:],
            tls: tls,
            maxBytes: 4096,
            deadline: target.deadline
        )
        guard let nonce = answer.headers.first(name: "Replay-Nonce"), !nonce.isEmpty else {
            throw UpstreamHTTP.Failure(description: "it gave no Replay-Nonce")
        }
        return nonce
    }

    func refused(_ what: String) -> CAError { CAError(.upstreamRefused, "upstream CA \(target.ca) \(what)") }

    static func detail(_ reply: Reply) -> String { String((reply.json["detail"] as? String ?? "").prefix(300)) }

    private static func object(_ json: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(json.utf8)) }

    private static func json(_ object: [String: Any]) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }
}

/// The account URLs of the RA keys this process has used, so that an exchange asks for its account
/// only once per process.
actor ACMEAccountURLs {
    private var urls: [String: String] = [:]
    subscript(key: String) -> String? { urls[key] }
    func set(_ key: String, _ url: String) { urls[key] = url }
}
