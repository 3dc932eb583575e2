import ACME
import Foundation
import MetadataStore

/// A POST whose JWS checked out (RFC 8555 section 6.2): signed by `key`, for this URL, with a nonce
/// used up now, and, when signed by account URL, from a valid account of the profile.
struct ACMESignedRequest: Sendable {
    let jws: JWS
    let key: JWK
    /// The signer's account: named by `kid`, or, for a `jwk`-signed request, the account of that key if
    /// there is one.
    let account: ACMEAccountRecord?
    var payload: [UInt8] { jws.payload }
    /// An empty payload: POST-as-GET (section 6.3).
    var isPostAsGet: Bool { jws.payload.isEmpty }

    /// The account, which a `kid` request always has.
    var signer: ACMEAccountRecord {
        get throws(ACMEProblem) {
            guard let account else { throw ACMEProblem(.accountDoesNotExist, "no account has this key") }
            return account
        }
    }
}

extension ACMEService {
    /// Which signer a resource accepts (section 6.2): `jwk` for newAccount, either for revokeCert, `kid`
    /// for everything else.
    enum SignerRule {
        case keyOnly, accountOnly, either
    }

    func verify(_ body: [UInt8], url: String, _ context: Context, signer rule: SignerRule = .accountOnly)
        async throws(ACMEProblem) -> ACMESignedRequest
    {
        let jws = try JWS(body: body)
        let key: JWK
        var account: ACMEAccountRecord?
        switch jws.signer {
        case .key(let jwk):
            guard rule != .accountOnly else {
                throw ACMEProblem(.malformed, "this request is signed by an account: name it with \"kid\", not \"jwk\"")
            }
            key = jwk
            account = try await read { try $0.acmeAccount(profile: context.profile.id, thumbprint: jwk.thumbprint) }
        case .account(let kid):
            guard rule != .keyOnly else {
                throw ACMEProblem(.malformed, "this request carries its key as \"jwk\", not \"kid\"")
            }
            guard let id = context.urls.accountID(kid),
                let found = try await read({ try $0.acmeAccount(id: id) }), found.profile == context.profile.id
            else { throw ACMEProblem(.accountDoesNotExist, "\"kid\" names no account of this profile") }
            key = try Self.key(of: found)
            account = found
        }
        guard jws.isSigned(by: key) else {
            throw ACMEProblem(.malformed, "the JWS signature does not verify with the signer's key")
        }
        guard jws.url == url else {
            throw ACMEProblem(.unauthorized, "the JWS \"url\" is not the URL this request was sent to")
        }
        try await nonces.consume(jws.nonce ?? "")
        if case .account = jws.signer, let account, account.status != .valid {
            throw ACMEProblem(.unauthorized, "account \(account.id) is \(account.status.rawValue)")
        }
        return ACMESignedRequest(jws: jws, key: key, account: account)
    }

    static func key(of account: ACMEAccountRecord) throws(ACMEProblem) -> JWK {
        guard let object = try? JSONSerialization.jsonObject(with: Data(account.key.utf8)) as? [String: Any] else {
            throw ACMEProblem(.serverInternal, "account \(account.id) has a stored key that does not parse")
        }
        return try JWK(json: object)
    }
}
