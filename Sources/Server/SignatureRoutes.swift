import Foundation
import Hummingbird
import PKCS11
import Signing

/// `POST /v1/keys/{name}/sign` and `/verify`, single or batched.
///
/// A body with `items` is a batch: top-level `scheme`, `hash`, `saltLength` and `signatureFormat`
/// apply to every item that does not set its own, results come back in order, and each item carries
/// its own signature or error. A body without `items` is one item, and its error is the response's.
struct SignatureRoutes {
    let signing: SigningService
    let maxBodyBytes: Int
    let rateLimiter: RateLimiter?

    /// One item as sent: exactly one of `digest` and `data` (base64).
    struct Item: Decodable {
        var digest: String?
        var data: String?
        var signature: String?
        var scheme: String?
        var hash: String?
        var saltLength: Int?
        var signatureFormat: String?
        var reference: String?

        var parameters: SignatureParameters {
            SignatureParameters(scheme: scheme, hash: hash, saltLength: saltLength, encoding: signatureFormat)
        }

        func input(maxDataBytes: Int) throws(APIError) -> SigningInput {
            switch (digest, data) {
            case (let digest?, nil): return .digest(try JSONBody.base64(digest, field: "digest"))
            case (nil, let data?):
                // Checked before decoding too, so that an oversized item costs no decoding.
                guard data.utf8.count <= (maxDataBytes + 2) / 3 * 4 else {
                    throw APIError.badRequest(
                        "invalid_input",
                        "data exceeds \(maxDataBytes) bytes; send a digest for larger inputs"
                    )
                }
                return .message(try JSONBody.base64(data, field: "data"))
            case (nil, nil): throw APIError.badRequest("invalid_input", "give either digest or data")
            case (_?, _?): throw APIError.badRequest("invalid_input", "give either digest or data, not both")
            }
        }
    }

    struct Body: Decodable {
        var items: [Lenient<Item>]?
        var single: Item

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            items = try container.decodeIfPresent([Lenient<Item>].self, forKey: .items)
            single = try Item(from: decoder)
        }

        enum CodingKeys: String, CodingKey { case items }
    }

    struct SignResult: Encodable {
        var reference: String?
        var signature: String?
        var scheme: String?
        var hash: String?
        var signatureFormat: String?
        var error: ItemError?
    }

    struct VerifyResult: Encodable {
        var reference: String?
        var valid: Bool?
        var error: ItemError?
    }

    struct BatchResponse<Result: Encodable>: Encodable {
        var key: String
        var results: [Result]
        var succeeded: Int
        var failed: Int
    }

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/keys/:name/sign") { request, context in
            let name = try context.parameters.require("name")
            try context.requireSigner(for: name)
            let body = try await JSONBody.decode(Body.self, from: request, limit: maxBodyBytes)
            let entries = try entries(body)
            try checkRate(entries.count, context)
            let (prepared, invalid) = prepare(entries, defaults: body.single) { item in
                SigningService.SignItem(
                    input: try item.input(maxDataBytes: signing.limits.maxDataBytes),
                    parameters: item.parameters
                )
            }
            let signed = prepared.isEmpty ? [] : try await signing.sign(name, prepared.map(\.1))
            var results = [Result<SigningService.Signature, APIError>?](repeating: nil, count: entries.count)
            for (index, error) in invalid { results[index] = .failure(error) }
            for ((index, _), outcome) in zip(prepared, signed) { results[index] = outcome.mapError(APIError.from) }
            let outcomes = results.map { $0! }
            let views = zip(entries, outcomes).map { entry, result -> SignResult in
                let reference = try? entry.get().reference
                switch result {
                case .success(let signature):
                    return SignResult(
                        reference: reference,
                        signature: Data(signature.bytes).base64EncodedString(),
                        scheme: signature.scheme.name,
                        hash: signature.scheme.hash?.rawValue,
                        signatureFormat: signature.encoding?.rawValue
                    )
                case .failure(let error):
                    return SignResult(reference: reference, error: ItemError(error))
                }
            }
            return try respond(body.items == nil, name: name, views, outcomes) { $0.error == nil }
        }
        group.post("v1/keys/:name/verify") { request, context in
            let name = try context.parameters.require("name")
            try context.require(.admin, .officer, .auditor, .signer)
            let body = try await JSONBody.decode(Body.self, from: request, limit: maxBodyBytes)
            let entries = try entries(body)
            let (prepared, invalid) = prepare(entries, defaults: body.single) { item in
                guard let signature = item.signature else {
                    throw APIError.badRequest("invalid_input", "signature is required")
                }
                return SigningService.VerifyItem(
                    input: try item.input(maxDataBytes: signing.limits.maxDataBytes),
                    signature: try JSONBody.base64(signature, field: "signature"),
                    parameters: item.parameters
                )
            }
            let checked = prepared.isEmpty ? [] : try await signing.verify(name, prepared.map(\.1))
            var results = [Result<Bool, APIError>?](repeating: nil, count: entries.count)
            for (index, error) in invalid { results[index] = .failure(error) }
            for ((index, _), outcome) in zip(prepared, checked) { results[index] = outcome.mapError(APIError.from) }
            let outcomes = results.map { $0! }
            let views = zip(entries, outcomes).map { entry, result -> VerifyResult in
                let reference = try? entry.get().reference
                switch result {
                case .success(let valid): return VerifyResult(reference: reference, valid: valid)
                case .failure(let error):
                    return VerifyResult(reference: reference, error: ItemError(error))
                }
            }
            return try respond(body.items == nil, name: name, views, outcomes) { $0.error == nil }
        }
    }

    /// Code signing answers CMS, built in a later step; until then the route says so.
    static func addCodeSigning(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/codesign/:name") { _, context -> Response in
            try context.requireSigner(for: try context.parameters.require("name"))
            throw APIError(
                .notImplemented,
                "not_implemented",
                "code signing (CMS SignedData) is not implemented yet; sign the artifact's digest with /v1/keys/{name}/sign"
            )
        }
    }

    /// The items of a body: a batch's, or the body itself as one item.
    private func entries(_ body: Body) throws(APIError) -> [Result<Item, APIError>] {
        guard let items = body.items else { return [.success(body.single)] }
        guard !items.isEmpty else { throw APIError.badRequest("empty_batch", "items is empty") }
        guard items.count <= signing.limits.maxBatchItems else {
            throw APIError.badRequest(
                "batch_too_large",
                "a batch has at most \(signing.limits.maxBatchItems) items, got \(items.count)"
            )
        }
        return items.map(\.value)
    }

    /// Converts the decoded items, keeping each one's position; bad ones become errors.
    private func prepare<Work>(
        _ entries: [Result<Item, APIError>],
        defaults: Item,
        _ convert: (Item) throws -> Work
    ) -> (valid: [(Int, Work)], invalid: [(Int, APIError)]) {
        var valid: [(Int, Work)] = []
        var invalid: [(Int, APIError)] = []
        valid.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            do {
                var item = try entry.get()
                let merged = item.parameters.merged(over: defaults.parameters)
                item.scheme = merged.scheme
                item.hash = merged.hash
                item.saltLength = merged.saltLength
                item.signatureFormat = merged.encoding
                valid.append((index, try convert(item)))
            } catch let error as APIError {
                invalid.append((index, error))
            } catch {
                invalid.append((index, ObservabilityMiddleware.apiError(for: error)))
            }
        }
        return (valid, invalid)
    }

    /// A single item answers with its own result or error; a batch always answers 200 with every result.
    private func respond<View: Encodable, Value>(
        _ single: Bool,
        name: String,
        _ views: [View],
        _ results: [Result<Value, APIError>],
        succeeded: (View) -> Bool
    ) throws -> Response {
        if single {
            if case .failure(let error) = results[0] { throw error }
            return try JSONResponse(body: views[0]).makeResponse()
        }
        let good = views.filter(succeeded).count
        return try JSONResponse(
            body: BatchResponse(key: name, results: views, succeeded: good, failed: views.count - good)
        ).makeResponse()
    }

    private func checkRate(_ cost: Int, _ context: CustosRequestContext) throws(APIError) {
        guard let rateLimiter, let id = context.credential?.id else { return }
        if let wait = rateLimiter.take(cost, for: id) {
            throw APIError(
                .tooManyRequests,
                "rate_limited",
                "this credential may sign \(rateLimiter.rate) signatures per second (burst \(Int(rateLimiter.burst)))",
                headers: [.retryAfter: String(wait)]
            )
        }
    }
}
