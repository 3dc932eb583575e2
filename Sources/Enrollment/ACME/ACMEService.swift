import ACME
public import ACMEValidation
import Codecs
import Foundation
import MetadataStore

/// ACME (RFC 8555) for enrollment profiles that offer it, at `/acme/<profile>/…`: the directory,
/// nonces, accounts, orders, authorizations and their challenges (validated by `ChallengeValidator`),
/// finalization through the profile's CA, certificate download, revocation and renewal information
/// (RFC 9773). Every refusal is a problem document; every state change is an audit entry.
public final class ACMEService: Sendable {
    public let enrollment: EnrollmentService
    public let validator: ChallengeValidator
    let nonces: ACMENonces
    let externalKeyKEK = TokenSecretKey(label: ACMEService.externalKeyKEKLabel)
    var store: any MetadataBackend { enrollment.store }
    /// Largest JWS body accepted.
    public static let maxBodyBytes = 64 * 1024

    public init(enrollment: EnrollmentService, validator: ChallengeValidator) {
        self.enrollment = enrollment
        self.validator = validator
        nonces = ACMENonces(store: enrollment.store)
    }

    /// Answers one request; never throws: refusals are problem documents. Every answer carries a fresh
    /// nonce and a link to the directory.
    public func handle(_ request: ACMERequest) async -> ACMEResponse {
        let urls = ACMEURLs(origin: request.origin, profile: request.profile)
        var response: ACMEResponse
        do throws(ACMEProblem) {
            let profile = try await acmeProfile(request.profile)
            response = try await route(request, profile: profile, urls: urls)
        } catch {
            response = Self.problem(error)
            if request.method == .post && error.kind != .badNonce {
                await auditRefusal(request, problem: error)
            }
        }
        if let nonce = try? await nonces.next() { response.headers.append(("Replay-Nonce", nonce)) }
        response.headers.append(("Link", "<\(urls.directory)>;rel=\"index\""))
        return response
    }

    /// The profile `id`, which must offer ACME.
    func acmeProfile(_ id: String) async throws(ACMEProblem) -> (EnrollmentProfile, ACMEPolicy) {
        let profile: EnrollmentProfile
        do { profile = try await enrollment.profile(id) } catch {
            if error.code == .unknownProfile {
                throw ACMEProblem(.malformed, "no ACME profile is named \"\(id.prefix(64))\"", status: 404)
            }
            throw Self.problem(from: error)
        }
        guard profile.protocols.contains(.acme), let policy = profile.acme else {
            throw ACMEProblem(.malformed, "profile \(profile.id) does not offer ACME", status: 404)
        }
        return (profile, policy)
    }

    private func route(_ request: ACMERequest, profile: (EnrollmentProfile, ACMEPolicy), urls: ACMEURLs)
        async throws(ACMEProblem) -> ACMEResponse
    {
        let path = request.path
        switch (request.method, path.first, path.count) {
        case (.get, "directory", 1):
            return directory(profile.1, urls: urls)
        case (.get, "new-nonce", 1), (.head, "new-nonce", 1):
            return ACMEResponse(status: request.method == .head ? 200 : 204, headers: [("Cache-Control", "no-store")])
        case (.get, "renewal-info", 2):
            return try await renewalInfo(certificateID: path[1], profile: profile.0)
        case (.post, _, _):
            break
        case (_, _, _) where Self.postPaths.contains(path.first ?? ""):
            throw ACMEProblem(.malformed, "\(request.method.rawValue) is not allowed here; ACME uses POST", status: 405)
        default:
            throw ACMEProblem(.malformed, "no ACME resource is at this URL", status: 404)
        }
        guard request.contentType?.lowercased().hasPrefix("application/jose+json") == true else {
            throw ACMEProblem(.malformed, "ACME requests are application/jose+json", status: 415)
        }
        let url = urls.base + "/" + path.joined(separator: "/")
        let context = Context(profile: profile.0, policy: profile.1, urls: urls, requestID: request.requestID)
        switch (path.first, path.count) {
        case ("new-account", 1):
            return try await newAccount(try await verify(request.body, url: url, context, signer: .keyOnly), context)
        case ("new-order", 1):
            return try await newOrder(try await verify(request.body, url: url, context), context)
        case ("revoke-cert", 1):
            return try await revoke(try await verify(request.body, url: url, context, signer: .either), context)
        case ("key-change", 1):
            return try await keyChange(try await verify(request.body, url: url, context), url: url, context)
        case ("account", 2):
            return try await updateAccount(try await verify(request.body, url: url, context), id: path[1], context)
        case ("account", 3) where path[2] == "orders":
            return try await orderList(try await verify(request.body, url: url, context), id: path[1], context)
        case ("order", 2):
            return try await order(try await verify(request.body, url: url, context), id: path[1], context)
        case ("order", 3) where path[2] == "finalize":
            return try await finalize(try await verify(request.body, url: url, context), id: path[1], context)
        case ("authz", 2):
            return try await authorization(try await verify(request.body, url: url, context), id: path[1], context)
        case ("chall", 3):
            return try await challenge(
                try await verify(request.body, url: url, context),
                authorization: path[1],
                type: path[2],
                context
            )
        case ("cert", 2):
            return try await certificate(
                try await verify(request.body, url: url, context),
                serial: path[1],
                alternate: 0,
                context
            )
        case ("cert", 3) where Int(path[2]).map({ $0 > 0 && $0 < 100 }) == true:
            return try await certificate(
                try await verify(request.body, url: url, context),
                serial: path[1],
                alternate: Int(path[2])!,
                context
            )
        default:
            throw ACMEProblem(.malformed, "no ACME resource is at this URL", status: 404)
        }
    }

    private static let postPaths: Set<String> = [
        "new-account", "new-order", "revoke-cert", "key-change", "account", "order", "authz", "chall", "cert",
    ]

    /// What every request handler needs.
    struct Context: Sendable {
        let profile: EnrollmentProfile
        let policy: ACMEPolicy
        let urls: ACMEURLs
        let requestID: String?

        /// An audit actor for an account.
        func actor(_ account: String) -> String { "acme/\(profile.id)/account/\(account)" }
    }

    private func directory(_ policy: ACMEPolicy, urls: ACMEURLs) -> ACMEResponse {
        var meta: [String: Any] = ["externalAccountRequired": policy.externalAccountRequired]
        if let terms = policy.termsOfService { meta["termsOfService"] = terms }
        return Self.json(
            200,
            [
                "newNonce": urls.newNonce, "newAccount": urls.newAccount, "newOrder": urls.newOrder,
                "revokeCert": urls.revokeCert, "keyChange": urls.keyChange, "renewalInfo": urls.renewalInfo,
                "meta": meta,
            ]
        )
    }

    // MARK: Answers

    static func json(_ status: Int, _ object: [String: Any], headers: [(name: String, value: String)] = [])
        -> ACMEResponse
    {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ACMEResponse(status: status, contentType: "application/json", headers: headers, body: Array(data))
    }

    static func problem(_ problem: ACMEProblem) -> ACMEResponse {
        var headers: [(name: String, value: String)] = []
        if problem.kind == .rateLimited || problem.status == 503 { headers.append(("Retry-After", "60")) }
        return ACMEResponse(
            status: problem.status,
            contentType: "application/problem+json",
            headers: headers,
            body: problem.json
        )
    }

    /// An enrollment or CA refusal in ACME's terms.
    static func problem(from error: EnrollmentError) -> ACMEProblem {
        switch error.code {
        case .invalidCSR: ACMEProblem(.badCSR, error.message)
        case .policyViolation: ACMEProblem(.rejectedIdentifier, error.message)
        case .invalidInput: ACMEProblem(.malformed, error.message)
        case .forbidden: ACMEProblem(.unauthorized, error.message)
        case .unavailable, .storeUnavailable, .upstreamUnavailable:
            ACMEProblem(.serverInternal, error.message, status: 503)
        default: ACMEProblem(.serverInternal, error.message)
        }
    }

    /// A new id for an account, order or authorization: 96 random bits in hex.
    static func newID() -> String { Hex.encode(EnrollmentService.randomBytes(12)) }

    static func timestamp(_ nanoseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(nanoseconds) / 1e9).formatted(.iso8601)
    }

    static func decodeObject(_ payload: [UInt8]) throws(ACMEProblem) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any] else {
            throw ACMEProblem(.malformed, "the payload is not a JSON object")
        }
        return object
    }

    private func auditRefusal(_ request: ACMERequest, problem: ACMEProblem) async {
        let event = AuditEvent(
            actor: "acme/\(request.profile.prefix(64))",
            action: "acme.refused",
            object: "acme/\(request.profile.prefix(64))/\(request.path.prefix(3).joined(separator: "/").prefix(128))",
            outcome: "refused: \(problem.kind.rawValue): \(problem.detail.prefix(512))",
            requestID: request.requestID
        )
        _ = try? await store.write { txn in try txn.appendAudit(event) }
    }

    /// Writes with an audit entry; store failures become `serverInternal`.
    func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T) async throws(ACMEProblem)
        -> T
    {
        do { return try await store.write(body) } catch let problem as ACMEProblem {
            throw problem
        } catch {
            throw ACMEProblem(.serverInternal, "the store failed: \(error)")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T) async throws(ACMEProblem) -> T
    {
        do { return try await store.read(body) } catch let problem as ACMEProblem {
            throw problem
        } catch {
            throw ACMEProblem(.serverInternal, "the store failed: \(error)")
        }
    }
}
